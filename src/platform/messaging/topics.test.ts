import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { kafkaTopics, loadConfig } from '../shared/config.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

test('KAFKA_TOPIC and KAFKA_DLQ_TOPIC name the topics; the DLQ defaults to <topic>.dlq', () => {
  assert.deepEqual(kafkaTopics({}), { topic: 'ec-events', dlqTopic: 'ec-events.dlq' });
  assert.deepEqual(kafkaTopics({ KAFKA_TOPIC: 'shop-b' }), { topic: 'shop-b', dlqTopic: 'shop-b.dlq' });
  assert.deepEqual(kafkaTopics({ KAFKA_TOPIC: 'shop-b', KAFKA_DLQ_TOPIC: 'dead' }), { topic: 'shop-b', dlqTopic: 'dead' });
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://u:p@127.0.0.1/db',
    JWT_SECRET: randomBytes(48).toString('base64url'),
    ADMIN_PASSWORD: randomBytes(12).toString('base64url'),
    KAFKA_TOPIC: 'shop-b',
  });
  assert.equal(config.kafka.topic, 'shop-b');
  assert.equal(config.kafka.dlqTopic, 'shop-b.dlq');
});

test('no code but src/platform/shared/config.ts writes the topic name: everything else takes it from the config', () => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (
        /\.tsx?$/.test(entry.name) &&
        !entry.name.endsWith('.test.ts') &&
        rel !== path.join('src', 'platform', 'shared', 'config.ts')
      ) {
        readFileSync(path.join(ROOT, rel), 'utf8')
          .split('\n')
          .forEach((line, i) => {
            const code = line.trim();
            if (!code.startsWith('*') && !code.startsWith('//') && /['"`]ec-events/.test(code)) offenders.push(`${rel}:${i + 1}: ${code}`);
          });
      }
    }
  };
  for (const dir of ['src', 'cmd', 'bench', 'scripts']) walk(dir);
  assert.deepEqual(offenders, []);
});

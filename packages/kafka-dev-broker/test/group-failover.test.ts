/**
 * Three kafkajs group members in three OS processes share six partitions. One is killed with SIGKILL (no
 * LeaveGroup, no commit): after its session timeout the coordinator expires it, the survivors rebalance and
 * take over its partitions, and every message is consumed at least once.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { kafka, startTestBroker, unique, waitFor, type TestBroker } from './fixtures/helpers.ts';

const SESSION_TIMEOUT_MS = 6000;
const FIXTURE = fileURLToPath(new URL('./fixtures/consumer.ts', import.meta.url));

interface Member {
  child: ChildProcess;
  partitions: number[];
  values: string[];
  crashes: string[];
}

let t: TestBroker;
const members: Member[] = [];
before(async () => {
  t = await startTestBroker();
});
after(async () => {
  for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
  await t.broker.close();
});

function spawnMember(topic: string, groupId: string): Member {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, t.address, topic, groupId, String(SESSION_TIMEOUT_MS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const member: Member = { child, partitions: [], values: [], crashes: [] };
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const event = JSON.parse(line) as { type: string; partitions?: number[]; value?: string; error?: string };
      if (event.type === 'assigned') member.partitions = event.partitions!;
      if (event.type === 'message') member.values.push(event.value!);
      if (event.type === 'crash') member.crashes.push(event.error!);
    }
  });
  members.push(member);
  return member;
}

async function produce(topic: string, from: number, count: number): Promise<void> {
  const producer = kafka(t.address).producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `m${from + i}` })) });
  await producer.disconnect();
}

const owned = (group: Member[]): number[] => group.flatMap((m) => m.partitions).sort((a, b) => a - b);

test('three consumer processes split six partitions and survive a kill -9 of one of them', { timeout: 90_000 }, async (ctx) => {
  const topic = unique('failover');
  const groupId = unique('failover-group');
  const admin = kafka(t.address).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
  await admin.disconnect();

  const group = [spawnMember(topic, groupId), spawnMember(topic, groupId), spawnMember(topic, groupId)];
  await waitFor(
    'three members with two partitions each',
    () => group.every((m) => m.partitions.length === 2) && owned(group).join() === '0,1,2,3,4,5',
    30_000,
  );

  await produce(topic, 0, 300);
  const consumed = (): Set<string> => new Set(group.flatMap((m) => m.values));
  await waitFor('the first 300 messages', () => consumed().size === 300, 20_000);

  const [victim, ...survivors] = group as [Member, Member, Member];
  const orphaned = victim.partitions;
  victim.child.kill('SIGKILL');
  const killedAt = Date.now();
  await produce(topic, 300, 300);

  await waitFor(
    'the survivors to own all six partitions',
    () => survivors.every((m) => m.partitions.length === 3) && owned(survivors).join() === '0,1,2,3,4,5',
    SESSION_TIMEOUT_MS + 15_000,
  );
  const takeoverMs = Date.now() - killedAt;
  await waitFor('all 600 messages', () => consumed().size === 600, 20_000);

  const total = group.reduce((n, m) => n + m.values.length, 0);
  ctx.diagnostic(`partitions ${orphaned.join(',')} taken over ${takeoverMs} ms after kill -9 (session timeout ${SESSION_TIMEOUT_MS} ms)`);
  ctx.diagnostic(`600 distinct messages, ${total} deliveries, ${total - 600} duplicates (at-least-once)`);
  assert.ok(takeoverMs < SESSION_TIMEOUT_MS + 10_000, `takeover took ${takeoverMs} ms`);
  assert.deepEqual(
    survivors.flatMap((m) => m.crashes),
    [],
  );
  assert.ok(
    t.logs.some((l) => /session timeout of 6000 ms expired/.test(l)),
    'the coordinator expired the killed member',
  );
});

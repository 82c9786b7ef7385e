import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, redactSecrets } from './log.ts';

const capture = (format: 'text' | 'json', level: 'debug' | 'info' = 'info') => {
  const lines: string[] = [];
  return { lines, log: createLogger('api', { format, level, write: (l) => void lines.push(l) }) };
};

describe('log', () => {
  it('writes one readable line per event, key=value, errors as their message', () => {
    const { lines, log } = capture('text');
    log.info('consuming', { group: 'projector', ops_port: 41234 });
    log.warn('publish failed', { error: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), events: 3 });
    log.debug('not shown');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z info {2}\[api\] consuming group=projector ops_port=41234$/);
    assert.match(lines[1]!, /warn {2}\[api\] publish failed error="connect ECONNREFUSED \(ECONNREFUSED\)" events=3$/);
  });

  it('writes pino JSON with LOG_FORMAT=json, errors with their type and stack', () => {
    const { lines, log } = capture('json', 'debug');
    log.debug('sweep', { events: 2, error: new TypeError('bad') });
    const entry = JSON.parse(lines[0]!);
    assert.equal(entry.level, 'debug');
    assert.equal(entry.logger, 'api');
    assert.equal(entry.msg, 'sweep');
    assert.equal(entry.events, 2);
    assert.equal(entry.error.type, 'TypeError');
    assert.match(entry.error.stack, /TypeError: bad/);
  });

  it('one redaction policy: secrets by key at any depth, credentials inside strings, in fields and in the message', () => {
    for (const format of ['text', 'json'] as const) {
      const { lines, log } = capture(format);
      log.info('connecting to postgres://ecshop:hunter2@db:5432/ecshop', {
        password: 'hunter2',
        body: { email: 'a@example.com', refresh_token: 'r.t.x', nested: { password_hash: 'scrypt$…', jwtSecret: 'x'.repeat(40) } },
        headers: { authorization: 'Bearer abc.def.ghi' },
        note: 'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl seen',
        error: new Error('auth failed for postgres://u:pw@h/db'),
      });
      const line = lines.join('\n');
      for (const secret of ['hunter2', 'r.t.x', 'scrypt$', 'xxxxxxxx', 'abc.def.ghi', 'eyJhbGci', ':pw@'])
        assert.ok(!line.includes(secret), `${format}: ${secret} leaked: ${line}`);
      assert.ok(line.includes('a@example.com'), 'ordinary fields stay');
    }
  });

  it('redactSecrets copies, bounds depth, survives cycles and keeps numbers', () => {
    const cyclic: Record<string, unknown> = { n: 1 };
    cyclic.self = cyclic;
    assert.deepEqual(redactSecrets(cyclic), { n: 1, self: '[circular]' });
    const original = { token: 't' };
    assert.deepEqual(redactSecrets(original), { token: '[redacted]' });
    assert.equal(original.token, 't');
  });
});

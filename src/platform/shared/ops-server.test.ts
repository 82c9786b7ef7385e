import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startOpsServer } from './ops-server.ts';

test('the ops server answers /healthz, /readyz (503 naming what is down, or a throwing readiness) and /metrics, 404 otherwise', async () => {
  let ready = true;
  const ops = await startOpsServer({
    port: 0,
    name: 'tester',
    metrics: { render: async () => 'up 1\n', contentType: 'text/plain; version=0.0.4' },
    readiness: () => {
      if (ready === undefined) throw new Error('no probes yet');
      return { ready, status: ready ? 'ready' : 'not ready', checks: {}, down: ready ? [] : ['postgres'], details: {} } as never;
    },
  });
  try {
    const get = (path: string) => fetch(`http://127.0.0.1:${ops.port}${path}`);
    assert.deepEqual(await (await get('/healthz')).json(), { status: 'ok', process: 'tester' });
    assert.equal((await get('/readyz')).status, 200);
    ready = false;
    const down = await get('/readyz');
    assert.equal(down.status, 503);
    assert.deepEqual(((await down.json()) as { down: string[] }).down, ['postgres']);
    ready = undefined as never;
    assert.equal((await get('/readyz')).status, 503);
    const metrics = await get('/metrics');
    assert.equal(metrics.headers.get('content-type'), 'text/plain; version=0.0.4');
    assert.equal(await metrics.text(), 'up 1\n');
    const missing = await get('/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('content-type'), 'application/problem+json');
  } finally {
    await ops.close();
  }
});

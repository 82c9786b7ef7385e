import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childrenOf, commandLine, processStatus } from './proc.ts';
import { freePort, spawnManaged, waitForPort, type ManagedProcess } from './process.ts';
import { supervise, type ServiceDefinition } from './supervisor.ts';

const FAST = { initialMs: 100, maxMs: 1600, stableMs: 5000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A real child process serving TCP on `port`, like the broker or an api. */
function server(name: string, port: number): ServiceDefinition {
  const code = `require('node:net').createServer((s) => s.end('hi')).listen(${port}, '127.0.0.1'); process.on('SIGTERM', () => process.exit(0));`;
  return {
    name,
    spawn: () => spawnManaged(name, process.execPath, ['-e', code], { quiet: true }),
    ready: (proc) => waitForPort(port, '127.0.0.1', 10_000, proc.exited),
  };
}

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Two different free ports (two calls of freePort may well return the same one). */
async function twoPorts(): Promise<[number, number]> {
  const a = await freePort();
  for (;;) {
    const b = await freePort();
    if (b !== a) return [a, b];
  }
}

const zombieChildren = () => childrenOf(process.pid).filter((pid) => processStatus(pid)?.state === 'Z');

test('a killed service is restarted on the same port with a log line; the others are untouched; no zombie is left', async () => {
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const [portA, portB] = await twoPorts();
  const a = supervise(server('broker', portA), { log, backoff: FAST });
  const b = supervise(server('api', portB), { log, backoff: FAST });
  try {
    await Promise.all([a.start(), b.start()]);
    const first = a.info().pid!;
    const other = b.info().pid!;
    process.kill(first, 'SIGKILL');
    const back = await until('a new broker', () => a.info().state === 'running' && a.info().pid !== first && a.info());
    await waitForPort(portA, '127.0.0.1', 5000);
    assert.equal(back.restarts, 1);
    assert.equal(processStatus(first), undefined, 'the killed process is reaped, not a zombie');
    assert.deepEqual(zombieChildren(), []);
    assert.equal(b.info().pid, other, 'the other service kept its process');
    assert.equal(b.info().restarts, 0);
    assert.ok(
      lines.some(
        (l) =>
          l ===
          `[supervisor] broker (pid ${first}) was killed by SIGKILL after ${l.match(/after (\S+ s)/)?.[1]}; restarting in 0.1 s (restart 1)`,
      ),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.startsWith(`[supervisor] broker is back (pid ${back.pid}`)),
      lines.join('\n'),
    );
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
  assert.deepEqual(childrenOf(process.pid).filter(isOurServer), [], 'stop() leaves no server running');
});

test('a service that keeps dying is retried with a growing backoff, and stop() ends the loop', async () => {
  const lines: string[] = [];
  let spawned = 0;
  const crashing: ServiceDefinition = {
    name: 'worker',
    spawn: () => {
      spawned += 1;
      // The first incarnation lives (start() succeeds), every later one dies at once.
      return spawnManaged(
        'worker',
        process.execPath,
        ['-e', spawned === 1 ? 'setTimeout(() => process.exit(3), 200)' : 'process.exit(3)'],
        { quiet: true },
      );
    },
  };
  const s = supervise(crashing, { log: (l) => lines.push(l), backoff: FAST });
  await s.start();
  await until('four restarts', () => s.info().restarts >= 4, 20_000);
  await s.stop();
  const delays = lines.filter((l) => l.includes('restarting in')).map((l) => Number(/restarting in ([\d.]+) s/.exec(l)![1]));
  assert.deepEqual(delays.slice(0, 4), [0.1, 0.2, 0.4, 0.8], lines.join('\n'));
  assert.ok(
    lines.every((l) => !l.includes('restarting') || l.includes('exited with code 3')),
    lines.join('\n'),
  );
  const after = spawned;
  await sleep(2000);
  assert.equal(spawned, after, 'nothing is spawned after stop()');
  assert.equal(s.info().state, 'stopped');
});

test('a first start that fails rejects and leaves nothing running or restarting', async () => {
  const port = await freePort();
  let proc: ManagedProcess | undefined;
  const s = supervise(
    {
      name: 'postgres',
      spawn: () => (proc = spawnManaged('postgres', process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { quiet: true })),
      ready: () => waitForPort(port, '127.0.0.1', 300), // nothing ever listens
    },
    { log: () => {}, backoff: FAST },
  );
  await assert.rejects(s.start(), /timed out/);
  await proc!.exited;
  await sleep(500);
  assert.equal(s.info().state, 'stopped');
  assert.equal(s.info().restarts, 0);
});

test('hold() keeps a service down until start(); stop() during a backoff cancels the restart', async () => {
  const port = await freePort();
  const lines: string[] = [];
  const s = supervise(server('kafka', port), { log: (l) => lines.push(l), backoff: { initialMs: 1000, maxMs: 1000, stableMs: 5000 } });
  await s.start();
  await s.hold();
  assert.equal(s.info().state, 'held');
  await sleep(300);
  assert.equal(await canConnect(port), false, 'held: nobody listens');
  await s.start();
  assert.equal(await canConnect(port), true);
  const pid = s.info().pid!;
  process.kill(pid, 'SIGKILL');
  await until('the backoff', () => s.info().state === 'backoff');
  await s.stop();
  await sleep(1500);
  assert.equal(s.info().state, 'stopped');
  assert.equal(await canConnect(port), false, 'the restart was cancelled');
});

async function canConnect(port: number): Promise<boolean> {
  return waitForPort(port, '127.0.0.1', 200).then(
    () => true,
    () => false,
  );
}

/** A test server of this file that is still alive (a leak). */
const isOurServer = (pid: number): boolean => processStatus(pid)?.state !== 'Z' && commandLine(pid).join(' ').includes('createServer');

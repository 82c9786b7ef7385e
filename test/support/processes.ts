import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnManaged, waitForPort, type ManagedProcess } from '../../src/devstack/process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ShopProcesses {
  baseUrl: string;
  processes: ManagedProcess[];
  /** Starts another process of the same kind (e.g. a second projector) against the same stack. */
  spawn(kind: 'projector' | 'notifier' | 'worker' | 'api', extraEnv?: Record<string, string>): ManagedProcess;
  stop(): Promise<void>;
  logs(): string;
}

/**
 * Runs the shop's real processes (api, projector, notifier, worker) as separate OS processes against the
 * embedded stack whose endpoints are in the environment (scripts/with-stack.ts). Each test file gets its own
 * set, with its own consumer groups' members, on free ports.
 */
export async function startShop(
  opts: { projectors?: number; env?: Record<string, string>; kinds?: Array<'api' | 'projector' | 'notifier' | 'worker'> } = {},
): Promise<ShopProcesses> {
  const apiPort = await freePort();
  const lines: string[] = [];
  const env = {
    ...process.env,
    NODE_ENV: 'test',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    // Paid orders of the shared stack wait an hour for the simulated carrier, so tests that pay and then ship,
    // cancel or inspect an order by hand are never raced by the fulfilment saga (the workers of every test file
    // share its timers). The saga's own tests run in a shop of their own (isolated.ts) with a short delay.
    SHIPMENT_DELAY_MS: process.env.SHIPMENT_DELAY_MS ?? String(60 * 60 * 1000),
    // Every test client shares 127.0.0.1, where real users would come from many addresses: the per-address
    // limits would count a whole test file as one user. Tests of the limits themselves set their own.
    REGISTER_LIMIT_PER_ADDRESS: '1000000',
    LOGIN_LIMIT_PER_ADDRESS: '1000000',
    // Likewise for read-your-writes waits: anonymous test reads are all one address, admin writes one user.
    WAITS_PER_CLIENT: '1000',
    ...opts.env,
  } as Record<string, string>;
  const processes: ManagedProcess[] = [];
  let n = 0;
  const spawn = (kind: 'projector' | 'notifier' | 'worker' | 'api', extraEnv: Record<string, string> = {}) => {
    n += 1;
    const name = `${kind}-${n}`;
    const child = spawnManaged(name, process.execPath, ['--import', 'tsx', path.join(ROOT, 'cmd', `${kind}.ts`)], {
      cwd: ROOT,
      env: { ...env, INSTANCE_ID: name, ...extraEnv },
      log: (line) => {
        lines.push(line);
        if (process.env.SHOP_VERBOSE) console.log(line);
      },
    });
    processes.push(child);
    return child;
  };
  const kinds = opts.kinds ?? ['api', 'projector', 'notifier', 'worker'];
  for (const kind of kinds) {
    if (kind === 'projector') for (let i = 0; i < (opts.projectors ?? 1); i++) spawn('projector');
    else spawn(kind);
  }
  const api = processes.find((p) => p.name.startsWith('api'));
  if (api) {
    try {
      await waitForPort(apiPort, '127.0.0.1', 60_000, api.exited);
    } catch (err) {
      await Promise.allSettled(processes.map((p) => p.stop()));
      throw new Error(`api did not start: ${(err as Error).message}\n${lines.join('\n')}`);
    }
  }
  return {
    baseUrl: `http://127.0.0.1:${apiPort}`,
    processes,
    spawn,
    logs: () => lines.join('\n'),
    async stop() {
      await Promise.allSettled(processes.map((p) => p.stop(8000)));
    },
  };
}

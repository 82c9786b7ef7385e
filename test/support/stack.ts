/**
 * The embedded stack's services as fault tests see them (scripts/with-stack.ts supervises each one and serves
 * src/devstack/control.ts):
 *
 *   const broker = await stackService('kafka');          // { pid, state, restarts, … }
 *   process.kill(broker.pid!, 'SIGSTOP'); … process.kill(broker.pid!, 'SIGCONT');   // frozen, then thawed
 *   process.kill(broker.pid!, 'SIGKILL');                 // dies; the supervisor restarts it (same port, data)
 *   const back = await waitForRestart('kafka', broker.pid!);
 *   await holdService('kafka'); …; await startService('kafka');   // down for as long as the test wants
 *
 * Services: `kafka`, `postgres` (pid = the postmaster; freeze the whole server with `processTree(pid)`),
 * `dynamodb`, `mail`. In the test stack DynamoDB Local and MailDev keep their data in memory: restarting
 * them empties them. The broker and PostgreSQL keep theirs.
 */
import { processStatus, processTree } from '../../src/devstack/proc.ts';
import type { ServiceInfo } from '../../src/devstack/supervisor.ts';

export { processStatus, processTree };

export type StackServiceName = 'kafka' | 'postgres' | 'dynamodb' | 'mail';

function control(): { url: string; token: string } {
  const url = process.env.STACK_CONTROL_URL;
  const token = process.env.STACK_CONTROL_TOKEN;
  if (!url || !token) throw new Error('STACK_CONTROL_URL is not set: run the test through scripts/with-stack.ts (`make test`)');
  return { url, token };
}

async function call(method: 'GET' | 'POST', path: string): Promise<Response> {
  const { url, token } = control();
  const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
  return res;
}

export async function stackServices(): Promise<ServiceInfo[]> {
  return ((await (await call('GET', '/services')).json()) as { services: ServiceInfo[] }).services;
}

export async function stackService(name: StackServiceName): Promise<ServiceInfo> {
  const found = (await stackServices()).find((s) => s.name === name);
  if (!found) throw new Error(`the stack runs no ${name} (STACK_SERVICES?)`);
  return found;
}

/** Stops the service and keeps it down until startService (the supervisor does not restart a held service). */
export async function holdService(name: StackServiceName): Promise<void> {
  await call('POST', `/services/${name}/hold`);
}

/** Starts a held service; resolves once it serves again. */
export async function startService(name: StackServiceName): Promise<ServiceInfo> {
  await call('POST', `/services/${name}/start`);
  return stackService(name);
}

/** Waits until the supervisor has brought the service back with a pid other than `oldPid`, and it serves. */
export async function waitForRestart(name: StackServiceName, oldPid: number, timeoutMs = 60_000): Promise<ServiceInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await stackService(name);
    if (info.state === 'running' && info.pid !== undefined && info.pid !== oldPid) return info;
    if (Date.now() > deadline) throw new Error(`${name} did not come back within ${timeoutMs} ms (last: ${JSON.stringify(info)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends `signal` to every process of the service (for PostgreSQL: the postmaster and all its backends). */
export async function signalService(name: StackServiceName, signal: NodeJS.Signals): Promise<number[]> {
  const { pid } = await stackService(name);
  if (pid === undefined) throw new Error(`${name} has no running process`);
  const pids = processTree(pid);
  for (const p of pids) {
    try {
      process.kill(p, signal);
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { SupervisedService } from './supervisor.ts';

/**
 * A small HTTP API over a test stack's supervised services, for fault tests (test/support/stack.ts):
 *
 *   GET  /services                  → { services: [{ name, state, pid, restarts, since }] }
 *   POST /services/<name>/hold      → stops it and keeps it down (204)
 *   POST /services/<name>/start     → starts a held service again, answers once it is ready (204)
 *   POST /services/<name>/restart   → hold + start (204)
 *
 * A test that wants the broker killed sends SIGKILL to its `pid` itself and waits for a new pid; one that
 * wants it frozen sends SIGSTOP/SIGCONT. Loopback only, and every request needs the bearer token handed to
 * the test command in STACK_CONTROL_TOKEN.
 */
export async function startControlServer(
  services: Partial<Record<string, SupervisedService>>,
): Promise<{ url: string; token: string; close(): Promise<void> }> {
  const token = randomBytes(24).toString('base64url');
  const expected = Buffer.from(`Bearer ${token}`);
  const server = http.createServer((req, res) => {
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return send(401, { error: 'bad token' });
    const url = new URL(req.url ?? '/', 'http://control');
    if (req.method === 'GET' && url.pathname === '/services') {
      return send(200, { services: Object.values(services).map((s) => s!.info()) });
    }
    const m = /^\/services\/([a-z]+)\/(hold|start|restart)$/.exec(url.pathname);
    const service = m ? services[m[1]!] : undefined;
    if (req.method !== 'POST' || !m || !service) return send(404, { error: 'unknown service or action' });
    const action = m[2] === 'hold' ? service.hold() : m[2] === 'start' ? service.start() : service.hold().then(() => service.start());
    action.then(
      () => send(204),
      (err: Error) => send(500, { error: err.message }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

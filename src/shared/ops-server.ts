import http from 'node:http';
import type { Metrics } from './metrics.ts';

/**
 * /healthz (process alive), /readyz (dependencies reachable) and /metrics for the background processes,
 * which have no HTTP API of their own. The api serves the same paths from its hono app.
 */
export async function startOpsServer(opts: { port: number; host?: string; metrics: Metrics; ready: () => Promise<boolean> | boolean; name: string }) {
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.url === '/healthz') return send(200, JSON.stringify({ status: 'ok', process: opts.name }));
    if (req.url === '/metrics') return send(200, opts.metrics.render(), 'text/plain; version=0.0.4');
    if (req.url === '/readyz') {
      Promise.resolve(opts.ready())
        .then((ok) => send(ok ? 200 : 503, JSON.stringify({ status: ok ? 'ready' : 'not ready', process: opts.name })))
        .catch(() => send(503, JSON.stringify({ status: 'not ready', process: opts.name })));
      return;
    }
    send(404, JSON.stringify({ title: 'Not found', status: 404 }), 'application/problem+json');
  });
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host ?? '0.0.0.0', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : opts.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

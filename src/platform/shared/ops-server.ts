import http from 'node:http';
import type { Readiness } from './health.ts';
import type { Metrics } from './metrics.ts';

export interface OpsServerOptions {
  port: number;
  /** Default 127.0.0.1: health and metrics say a lot about a process and are for the machine's own scraper. */
  host?: string;
  metrics: Pick<Metrics, 'render' | 'contentType'>;
  /** Answers at once from cached results (health.ts): /readyz must not wait on a frozen dependency. */
  readiness: () => Readiness;
  name: string;
}

/**
 * Where the background processes listen: OPS_HOST (default loopback) and OPS_PORT (default 0, any free port;
 * the start-up log line names it). Read here rather than in config.ts because only these processes have it.
 */
export function opsListenFromEnv(env: Record<string, string | undefined> = process.env): { host: string; port: number } {
  const port = Number(env.OPS_PORT ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`OPS_PORT must be an integer in [0, 65535], got "${env.OPS_PORT}"`);
  return { host: env.OPS_HOST || '127.0.0.1', port };
}

/**
 * /healthz (process alive), /readyz (dependencies usable, naming those that are not) and /metrics for the
 * background processes, which have no HTTP API of their own. The api serves the same paths from its hono app.
 */
export async function startOpsServer(opts: OpsServerOptions) {
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    const path = (req.url ?? '').split('?')[0];
    if (path === '/healthz') return send(200, JSON.stringify({ status: 'ok', process: opts.name }));
    if (path === '/metrics') {
      opts.metrics.render().then(
        (text) => send(200, text, opts.metrics.contentType),
        (err: Error) => send(500, JSON.stringify({ title: 'metrics unavailable', status: 500, detail: err.message }), 'application/problem+json'),
      );
      return;
    }
    if (path === '/readyz') {
      let r: Readiness;
      try {
        r = opts.readiness();
      } catch (err) {
        return send(503, JSON.stringify({ status: 'not ready', process: opts.name, error: (err as Error).message }));
      }
      return send(r.ready ? 200 : 503, JSON.stringify({ status: r.status, process: opts.name, checks: r.checks, down: r.down, details: r.details }));
    }
    send(404, JSON.stringify({ title: 'Not found', status: 404 }), 'application/problem+json');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : opts.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
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
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`OPS_PORT must be an integer in [0, 65535], got "${env.OPS_PORT}"`);
  return { host: env.OPS_HOST || '127.0.0.1', port };
}

const problem = (title: string, status: number, detail?: string) =>
  new Response(JSON.stringify({ title, status, ...(detail === undefined ? {} : { detail }) }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });

/**
 * /healthz (process alive), /readyz (dependencies usable, naming those that are not) and /metrics: the same three
 * paths in every process — the api mounts them in its hono app, the background processes (which have no HTTP API
 * of their own) serve them alone with startOpsServer. /readyz answers at once from cached probe results
 * (health.ts): it must not wait on a frozen dependency.
 */
export function probeRoutes(name: string, opts: Pick<OpsServerOptions, 'metrics' | 'readiness'>) {
  return new Hono()
    .get('/healthz', (c) => c.json({ status: 'ok', process: name }))
    .get('/readyz', (c) => {
      let r: Readiness;
      try {
        r = opts.readiness();
      } catch (err) {
        return c.json({ status: 'not ready', process: name, error: (err as Error).message }, 503);
      }
      return c.json({ status: r.status, process: name, checks: r.checks, down: r.down, details: r.details }, r.ready ? 200 : 503);
    })
    .get('/metrics', async (c) => {
      try {
        return c.body(await opts.metrics.render(), 200, { 'content-type': opts.metrics.contentType });
      } catch (err) {
        return problem('metrics unavailable', 500, (err as Error).message);
      }
    });
}

/** The probe routes of a background process on their own port (OPS_HOST/OPS_PORT). */
export async function startOpsServer(opts: OpsServerOptions) {
  const app = probeRoutes(opts.name, opts);
  app.notFound(() => problem('Not found', 404));
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: opts.port, hostname: opts.host ?? '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : opts.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

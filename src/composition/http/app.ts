import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { AppError } from '../../platform/shared/errors.ts';
import { authenticate, type AuthEnv } from '../../platform/http/auth.ts';
import { clientAddress } from '../../platform/http/client-address.ts';
import type { HttpDeps } from '../../kernel/deps.ts';
import { onError, problemResponse, toProblem } from '../../platform/http/problem.ts';
import { requestLog } from '../../platform/http/request-log.ts';
import { authRoutes } from '../../contexts/users/routes.ts';
import { cartRoutes } from '../../contexts/carts/routes.ts';
import { catalogRoutes } from '../../contexts/catalog/routes.ts';
import { eventRoutes } from './events-routes.ts';
import { inventoryRoutes } from '../../contexts/inventory/routes.ts';
import { liveRoutes } from './live-routes.ts';
import { opsRoutes } from './ops-routes.ts';
import { orderRoutes } from '../../contexts/orders/routes.ts';

/**
 * The api's HTTP application: commands and queries of DESIGN §7 plus the SPA at `/`. Built from its
 * dependencies so tests can call `app.request(...)` without opening a port.
 */
export function createHttpApp(deps: HttpDeps) {
  const app = new Hono<AuthEnv>();
  const requests = deps.ops.metrics.counter('http_requests_total', 'HTTP requests by method, route and status');
  // Commands are the POST/PUT/DELETE routes: their latency includes the append and the Kafka publish.
  const latency = deps.ops.metrics.histogram('http_request_duration_seconds', 'HTTP request latency by method, route and status', {
    labelNames: ['method', 'route', 'status'],
  });
  // X-Request-Id: the caller's if it is short and plain (letters, digits, -, _, =), else a new UUID; echoed back.
  app.use('*', requestId({ limitLength: 100 }));
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    requests.inc({ method: c.req.method, route: c.req.routePath, status: String(c.res.status) });
    latency.observe({ method: c.req.method, route: c.req.routePath, status: String(c.res.status) }, (performance.now() - started) / 1000);
  });
  app.use('*', requestLog(deps.log));
  app.use('*', clientAddress({ trustedProxies: deps.security.trustedProxies }));
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
      },
    }),
  );
  app.use(
    '*',
    bodyLimit({
      maxSize: deps.bodyLimitBytes,
      onError: (c) =>
        problemResponse(
          c,
          toProblem(new AppError('too_large', 'body_too_large', `request body exceeds ${deps.bodyLimitBytes} bytes`), c.req.path),
        ),
    }),
  );
  app.use('*', authenticate(deps.tokens));
  app.route('/', opsRoutes(deps));
  app.route('/', authRoutes(deps));
  app.route('/', catalogRoutes(deps));
  app.route('/', inventoryRoutes(deps));
  app.route('/', cartRoutes(deps));
  app.route('/', orderRoutes(deps));
  app.route('/', eventRoutes(deps));
  app.route('/', liveRoutes(deps.live));
  // The SPA (web/, built by Vite into webDir). index.html is revalidated on every load so a deploy shows at
  // once; everything under assets/ is named by its content hash, so a browser may keep it forever.
  app.get('/', serveStatic({ root: deps.webDir, path: 'index.html', onFound: (_p, c) => c.header('cache-control', 'no-cache') }));
  app.get('/', () => {
    throw new AppError('unavailable', 'spa_not_built', 'the browser app is not built: run `make web` (make dev and make test build it)');
  });
  app.get(
    '/assets/*',
    serveStatic({ root: deps.webDir, onFound: (_p, c) => c.header('cache-control', 'public, max-age=31536000, immutable') }),
  );
  app.get(
    '/favicon.svg',
    serveStatic({ root: deps.webDir, path: 'favicon.svg', onFound: (_p, c) => c.header('cache-control', 'public, max-age=86400') }),
  );
  app.notFound((c) =>
    problemResponse(c, toProblem(new AppError('not_found', 'route_not_found', `no route for ${c.req.method} ${c.req.path}`), c.req.path)),
  );
  app.onError(onError(deps.log));
  return app;
}

/**
 * Shared by the security tests (auth matrix, fuzz, security): the api's routes as registered, forged tokens, and
 * requests from a chosen source address (every 127.x.y.z is loopback on Linux, so a test can be several clients).
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { createMemoryShop } from '../../src/processes/memory.ts';
import { stackSecrets } from './env.ts';

/** The test stack's generated secret (scripts/with-stack.ts), so tests can sign tokens as the api would (and forge ones it must refuse). */
export const TEST_JWT_SECRET = stackSecrets().jwtSecret;

/**
 * Every (method, path) the api registers, read from the real route table as the tests' composition root builds it
 * (src/processes/memory.ts, the in-memory shop): a route added later without an entry in a test's table makes
 * that test fail instead of going untested.
 */
export function registeredRoutes(): string[] {
  const routes = createMemoryShop()
    .app.routes.filter((r) => r.method !== 'ALL')
    .map((r) => `${r.method} ${r.path}`);
  return [...new Set(routes)];
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWT signed with HMAC-SHA256 (or the header's algorithm name, for forgeries) over any header and payload. */
export function signJwt(payload: Record<string, unknown>, opts: { secret?: string; header?: Record<string, unknown> } = {}): string {
  const header = opts.header ?? { alg: 'HS256', typ: 'JWT' };
  const body = `${b64(header)}.${b64(payload)}`;
  const alg = header.alg === 'HS512' ? 'sha512' : header.alg === 'HS384' ? 'sha384' : 'sha256';
  return `${body}.${createHmac(alg, opts.secret ?? TEST_JWT_SECRET)
    .update(body)
    .digest('base64url')}`;
}

export const decodeJwt = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

/**
 * Tokens the api must refuse, built from a real customer's access and refresh tokens: each a different way of
 * trying to be someone (or something) one is not.
 */
export function forgeries(real: { access: string; refresh: string }): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = decodeJwt(real.access);
  const [h, , s] = real.access.split('.');
  return {
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, role: 'admin' })}.`,
    'wrong secret': signJwt({ ...claims, role: 'admin' }, { secret: 'x'.repeat(48) }),
    'the dev default secret': signJwt({ ...claims, role: 'admin' }, { secret: 'dev-only-secret-change-me-0123456789abcdef' }),
    expired: signJwt({ ...claims, iat: now - 3600, exp: now - 60 }),
    'refresh as access': real.refresh,
    'role edited': `${h}.${b64({ ...claims, role: 'admin' })}.${s}`,
    'HS512 with the right secret': signJwt({ ...claims, role: 'admin' }, { header: { alg: 'HS512', typ: 'JWT' } }),
    'no typ claim': signJwt({ sub: claims.sub, email: claims.email, role: 'admin', iat: now, exp: now + 600 }),
    garbage: 'not.a.jwt',
  };
}

export interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: any;
}

/** One HTTP request from a given local (source) address, e.g. 127.0.0.7, so the api sees a different client. */
export function requestFrom(
  localAddress: string,
  baseUrl: string,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RawReply> {
  const url = new URL(path, baseUrl);
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        localAddress,
        agent: false,
        headers: {
          ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...opts.headers,
        },
        timeout: opts.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} from ${localAddress}: no answer`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

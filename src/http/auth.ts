import type { Context, MiddlewareHandler } from 'hono';
import { sign, verify } from 'hono/jwt';
import type { Principal } from '../app/principal.ts';
import { AppError } from '../shared/errors.ts';

export type { Principal, Role } from '../app/principal.ts';

export type AuthEnv = { Variables: { user: Principal | undefined; requestId: string } };

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

const unauthorized = (message: string) => new AppError('unauthorized', 'unauthorized', message);

/**
 * HS256 access tokens (short-lived) and refresh tokens (long-lived), told apart by a `typ` claim so a
 * refresh token can never be used as an access token. Time comes in from outside for testability.
 */
export function createTokens(opts: { secret: string; accessTtlSeconds: number; refreshTtlSeconds: number; now?: () => number }) {
  const now = () => Math.floor((opts.now ?? Date.now)() / 1000);
  const issue = async (p: Principal): Promise<TokenPair> => {
    const iat = now();
    const claims = { sub: p.user_id, email: p.email, role: p.role, iat };
    return {
      access_token: await sign({ ...claims, typ: 'access', exp: iat + opts.accessTtlSeconds }, opts.secret, 'HS256'),
      refresh_token: await sign({ ...claims, typ: 'refresh', exp: iat + opts.refreshTtlSeconds }, opts.secret, 'HS256'),
      token_type: 'Bearer',
      expires_in: opts.accessTtlSeconds,
    };
  };
  const read = async (token: string, typ: 'access' | 'refresh'): Promise<Principal> => {
    let payload: Record<string, unknown>;
    try {
      payload = await verify(token, opts.secret, 'HS256');
    } catch {
      throw unauthorized('invalid or expired token');
    }
    if (payload.typ !== typ) throw unauthorized(`not an ${typ} token`);
    if (typeof payload.exp !== 'number' || payload.exp < now()) throw unauthorized('token expired');
    const role = payload.role;
    if (typeof payload.sub !== 'string' || typeof payload.email !== 'string' || (role !== 'customer' && role !== 'admin')) throw unauthorized('malformed token');
    return { user_id: payload.sub, email: payload.email, role };
  };
  return { issue, verifyAccess: (t: string) => read(t, 'access'), verifyRefresh: (t: string) => read(t, 'refresh') };
}

export type Tokens = ReturnType<typeof createTokens>;

/** Reads a Bearer token when present; a present but bad token is a 401 rather than silently anonymous. */
export function authenticate(tokens: Tokens): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match?.[1]) throw unauthorized('Authorization header must be "Bearer <token>"');
      c.set('user', await tokens.verifyAccess(match[1]));
    }
    await next();
  };
}

export function requireUser(c: Context<AuthEnv>): Principal {
  const user = c.get('user');
  if (!user) throw unauthorized('log in first: send Authorization: Bearer <access_token> (POST /auth/login)');
  return user;
}

export function requireAdmin(c: Context<AuthEnv>): Principal {
  const user = requireUser(c);
  if (user.role !== 'admin') throw new AppError('forbidden', 'forbidden', 'this operation requires the admin role');
  return user;
}

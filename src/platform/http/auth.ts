import { randomBytes } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { sign, verify } from 'hono/jwt';
import type { Principal } from '../shared/principal.ts';
import { AppError } from '../shared/errors.ts';

export type { Principal } from '../shared/principal.ts';

export type AuthEnv = { Variables: { user: Principal | undefined; requestId: string; clientAddress: string } };

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

/** What a refresh token names: its user, its family (the login session) and itself. */
export interface RefreshClaims {
  user_id: string;
  family_id: string;
  token_id: string;
  /** Epoch seconds. */
  expires_at: number;
}

const unauthorized = (message: string, code = 'unauthorized') => new AppError('unauthorized', code, message);

/**
 * HS256 access tokens (short-lived, stateless: they keep working until they expire) and refresh tokens
 * (long-lived, one use each: `fam` names the login's token family in the session store, `jti` the token, see
 * src/platform/eventstore/sessions.ts), told apart by a `typ` claim so neither can stand in for the other. Only HS256 with
 * this secret is accepted (no `alg: none`, no other algorithm), and every claim is checked for its type.
 * Time comes in from outside for testability.
 */
export function createTokens(opts: { secret: string; accessTtlSeconds: number; refreshTtlSeconds: number; now?: () => number }) {
  const now = () => Math.floor((opts.now ?? Date.now)() / 1000);

  const accessToken = async (p: Principal): Promise<string> => {
    const iat = now();
    return sign(
      { sub: p.user_id, email: p.email, role: p.role, typ: 'access', iat, exp: iat + opts.accessTtlSeconds },
      opts.secret,
      'HS256',
    );
  };

  /** A new refresh token of a family; its expiry is also the session's. */
  const refreshToken = async (user_id: string, family_id: string): Promise<{ token: string; claims: RefreshClaims }> => {
    const iat = now();
    const claims = { user_id, family_id, token_id: randomBytes(16).toString('base64url'), expires_at: iat + opts.refreshTtlSeconds };
    const token = await sign(
      { sub: user_id, fam: family_id, jti: claims.token_id, typ: 'refresh', iat, exp: claims.expires_at },
      opts.secret,
      'HS256',
    );
    return { token, claims };
  };

  const decode = async (token: string, typ: 'access' | 'refresh', checkExpiry: boolean): Promise<Record<string, unknown>> => {
    let payload: Record<string, unknown>;
    try {
      payload = await verify(token, opts.secret, { alg: 'HS256', exp: false });
    } catch {
      throw unauthorized('invalid token');
    }
    if (payload.typ !== typ) throw unauthorized(`not an ${typ} token`);
    if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) throw unauthorized('malformed token');
    if (checkExpiry && payload.exp <= now()) throw unauthorized('token expired', 'token_expired');
    if (typeof payload.sub !== 'string' || payload.sub === '') throw unauthorized('malformed token');
    return payload;
  };

  return {
    accessToken,
    refreshToken,
    accessTtlSeconds: opts.accessTtlSeconds,
    async pair(p: Principal, refresh: string): Promise<TokenPair> {
      return { access_token: await accessToken(p), refresh_token: refresh, token_type: 'Bearer', expires_in: opts.accessTtlSeconds };
    },
    async verifyAccess(token: string): Promise<Principal> {
      const payload = await decode(token, 'access', true);
      const role = payload.role;
      if (typeof payload.email !== 'string' || (role !== 'customer' && role !== 'admin')) throw unauthorized('malformed token');
      return { user_id: payload.sub as string, email: payload.email, role };
    },
    /** `ignoreExpiry` for logout: revoking the family of an expired token is harmless and expected. */
    async verifyRefresh(token: string, o: { ignoreExpiry?: boolean } = {}): Promise<RefreshClaims> {
      const payload = await decode(token, 'refresh', !o.ignoreExpiry);
      if (typeof payload.fam !== 'string' || payload.fam === '' || typeof payload.jti !== 'string' || payload.jti === '')
        throw unauthorized('malformed token');
      return { user_id: payload.sub as string, family_id: payload.fam, token_id: payload.jti, expires_at: payload.exp as number };
    },
  };
}

export type Tokens = ReturnType<typeof createTokens>;

/**
 * Reads a Bearer token when present; a present but bad token is a 401 rather than silently anonymous. Except
 * under /auth/: logging in, registering, refreshing and logging out need no access token, and a client calling
 * /auth/refresh precisely because its access token expired must not be refused for still sending it.
 */
export function authenticate(tokens: Tokens): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const header = c.req.path.startsWith('/auth/') ? undefined : c.req.header('authorization');
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

import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { AppError } from '../../platform/shared/errors.ts';
import { normaliseEmail } from './index.ts';
import { requireUser, type AuthEnv, type RefreshClaims } from '../../platform/http/auth.ts';
import { addressKey } from '../../platform/http/client-address.ts';
import { runCommand } from '../../kernel/command.ts';
import type { HttpDeps } from '../../kernel/deps.ts';
import { createRateLimiter } from '../../platform/http/rate-limit.ts';
import { parseBody } from '../../platform/http/validate.ts';

const Register = z.object({ email: z.string().max(254), password: z.string().max(1000), name: z.string().max(1000) });
const Login = z.object({ email: z.string().max(254), password: z.string().max(1000) });
const RefreshToken = z.object({ refresh_token: z.string().max(4096) });
/** The request bodies as a client may send them (checked against the SPA's types in api-types.conformance.ts). */
export type RegisterBody = z.input<typeof Register>;
export type LoginBody = z.input<typeof Login>;
export type RefreshTokenBody = z.input<typeof RefreshToken>;

const refused = (code: string, message: string) => new AppError('unauthorized', code, message);

/**
 * Registration, login and the refresh-token lifecycle. Login and registration are rate limited per client
 * address, per normalised email and (login) per address and email, before any password is hashed; refresh
 * tokens rotate on every use and a reused one revokes its whole family (src/platform/eventstore/sessions.ts).
 */
export function authRoutes(deps: HttpDeps) {
  const { users, executor } = deps.app;
  const limits = deps.security;
  const limiter = createRateLimiter();
  const nowIso = () => new Date().toISOString();

  /** A new refresh token for a family: the session item's current token and expiry follow it. */
  const issue = async (
    user: { user_id: string; email: string; role: 'customer' | 'admin' },
    family_id: string,
    previous?: RefreshClaims,
  ) => {
    const { token, claims } = await deps.tokens.refreshToken(user.user_id, family_id);
    if (!previous) {
      await deps.sessions.create({
        family_id,
        user_id: user.user_id,
        token_id: claims.token_id,
        now: nowIso(),
        expires_at: claims.expires_at,
      });
    } else {
      const rotated = await deps.sessions.rotate({
        family_id,
        user_id: user.user_id,
        presented: previous.token_id,
        next: claims.token_id,
        now: nowIso(),
        nowSeconds: Math.floor(Date.now() / 1000),
        expires_at: claims.expires_at,
      });
      if (!rotated.ok) {
        if (rotated.reason === 'reused') {
          deps.log.warn('refresh token reused: session revoked', { family_id, user_id: user.user_id });
          throw refused('refresh_token_reused', 'this refresh token was already used; the session is revoked, log in again');
        }
        throw refused(rotated.reason === 'revoked' ? 'session_revoked' : 'unauthorized', 'the session has ended; log in again');
      }
    }
    return deps.tokens.pair({ user_id: user.user_id, email: user.email, role: user.role }, token);
  };

  const addressOf = (c: Context<AuthEnv>) => addressKey(c.get('clientAddress') ?? 'unknown');

  return new Hono<AuthEnv>()
    .post('/auth/register', async (c) => {
      const body = await parseBody(c, Register);
      // Cheap checks first: a malformed registration costs neither a hash nor an attempt.
      users.checkRegistration(body);
      const email = normaliseEmail(body.email);
      limiter.take([
        { key: `register:address:${addressOf(c)}`, limit: limits.register.perAddress },
        { key: `register:email:${email}`, limit: limits.register.perEmail },
      ]);
      return runCommand(c, executor, users.register, await users.prepareRegistration(body), 201);
    })
    .post('/auth/login', async (c) => {
      const body = await parseBody(c, Login);
      const email = normaliseEmail(body.email);
      const address = addressOf(c);
      // Per address and account (guessing one password), per address (spraying many accounts) and per account
      // (guessing from many addresses). All or nothing, and a success is given back: see rate-limit.ts.
      const ticket = limiter.take([
        { key: `login:address+email:${address}|${email}`, limit: limits.login.perAddressAndEmail },
        { key: `login:address:${address}`, limit: limits.login.perAddress },
        { key: `login:email:${email}`, limit: limits.login.perEmail },
      ]);
      const user = await users.authenticate(body.email, body.password);
      ticket.refund();
      const tokens = await issue(user, randomUUID());
      return c.json({ ...tokens, user: { user_id: user.user_id, email: user.email, name: user.name, role: user.role } });
    })
    .post('/auth/refresh', async (c) => {
      const body = await parseBody(c, RefreshToken);
      const claims = await deps.tokens.verifyRefresh(body.refresh_token);
      // The account must still exist: a refresh token outliving its user must not mint access tokens. Its role
      // is read again, so a changed role takes effect at the next refresh.
      const user = await users.get(claims.user_id);
      if (!user) throw refused('unauthorized', 'the account no longer exists');
      return c.json(await issue(user, claims.family_id, claims));
    })
    .post('/auth/logout', async (c) => {
      const body = await parseBody(c, RefreshToken);
      // Only our own tokens (the signature is checked), but a spent, revoked or expired one still ends its
      // family: logging out is idempotent and never tells a client whether the session was still alive.
      const claims = await deps.tokens.verifyRefresh(body.refresh_token, { ignoreExpiry: true });
      await deps.sessions.revoke(claims.family_id, 'logout', nowIso());
      return c.body(null, 204);
    })
    .get('/me', async (c) => {
      const principal = requireUser(c);
      const user = await users.get(principal.user_id);
      if (!user) throw new AppError('unauthorized', 'unauthorized', 'the account no longer exists');
      return c.json(user);
    });
}

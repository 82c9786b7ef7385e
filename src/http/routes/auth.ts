import { Hono } from 'hono';
import { z } from 'zod';
import { AppError } from '../../shared/errors.ts';
import { requireUser, type AuthEnv } from '../auth.ts';
import { runCommand } from '../command.ts';
import type { HttpDeps } from '../deps.ts';
import { createRateLimiter } from '../rate-limit.ts';
import { parseBody } from '../validate.ts';

const Register = z.object({ email: z.string().max(254), password: z.string().max(1000), name: z.string().max(1000) });
const Login = z.object({ email: z.string().max(254), password: z.string().max(1000) });
const Refresh = z.object({ refresh_token: z.string().max(4096) });

export function authRoutes(deps: HttpDeps) {
  const { users } = deps.services;
  const limiter = createRateLimiter(deps.loginRateLimit ?? { limit: 10, windowMs: 60_000 });
  return new Hono<AuthEnv>()
    .post('/auth/register', async (c) => {
      const body = await parseBody(c, Register);
      return runCommand(c, deps.executor, await users.register(body));
    })
    .post('/auth/login', async (c) => {
      const body = await parseBody(c, Login);
      // Per address and account: slows guessing one password and spraying many accounts alike.
      const address = c.req.header('x-forwarded-for')?.split(',')[0]?.trim() ?? 'local';
      limiter.hit(`${address}|${body.email.toLowerCase()}`);
      const user = await users.authenticate(body.email, body.password);
      const tokens = await deps.tokens.issue({ user_id: user.user_id, email: user.email, role: user.role });
      return c.json({ ...tokens, user: { user_id: user.user_id, email: user.email, name: user.name, role: user.role } });
    })
    .post('/auth/refresh', async (c) => {
      const body = await parseBody(c, Refresh);
      const principal = await deps.tokens.verifyRefresh(body.refresh_token);
      // The account must still exist: a refresh token outliving its user must not mint access tokens.
      const user = await users.get(principal.user_id);
      if (!user) throw new AppError('unauthorized', 'unauthorized', 'the account no longer exists');
      return c.json(await deps.tokens.issue({ user_id: user.user_id, email: user.email, role: user.role }));
    })
    .get('/me', async (c) => {
      const principal = requireUser(c);
      const user = await users.get(principal.user_id);
      if (!user) throw new AppError('unauthorized', 'unauthorized', 'the account no longer exists');
      return c.json(user);
    });
}

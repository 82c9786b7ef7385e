import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { validationError } from '../shared/errors.ts';
import { hashRequest, type Executor, type Plan } from '../app/executor.ts';
import type { AuthEnv } from './auth.ts';

const KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * Runs a planned command for a POST/PUT/DELETE route. With an `Idempotency-Key` header the command is executed
 * at most once per (user, method, path, key): the key is stored in the same DynamoDB transaction as the events,
 * and a repeat gets the first answer with `Idempotent-Replayed: true`.
 */
export async function runCommand<B>(c: Context<AuthEnv>, executor: Executor, plan: () => Promise<Plan<B>>): Promise<Response> {
  const user = c.get('user');
  const header = c.req.header('idempotency-key');
  if (header !== undefined && !KEY.test(header)) throw validationError('Idempotency-Key must be 1..200 visible ASCII characters');
  const idempotency = header
    ? { key: `${user?.user_id ?? 'anonymous'}:${c.req.method} ${c.req.path}:${header}`, requestHash: hashRequest(await c.req.text()) }
    : undefined;
  const outcome = await executor.run(plan, {
    metadata: {
      correlation_id: c.get('requestId'),
      ...(user ? { user_id: user.user_id } : {}),
    },
    ...(idempotency ? { idempotency } : {}),
  });
  if (outcome.replayed) c.header('idempotent-replayed', 'true');
  return c.json(outcome.body as object, outcome.status as ContentfulStatusCode);
}

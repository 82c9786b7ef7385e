import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { validationError } from '../platform/shared/errors.ts';
import { hashRequest, type Executor } from './executor.ts';
import type { CommandHandler } from './handler.ts';
import type { AuthEnv } from '../platform/http/auth.ts';

const KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * Runs a command handler for a POST/PUT/DELETE route and answers its result with the route's status (errors
 * become problem details in app.ts's onError). With an `Idempotency-Key` header the command is executed at most
 * once per (user, method, path, key): the answer is stored in the same DynamoDB transaction as the events — also
 * when the command decided there was nothing to do — and a repeat gets it with `Idempotent-Replayed: true`.
 */
export async function runCommand<C, R extends object>(
  c: Context<AuthEnv>,
  executor: Executor,
  handler: CommandHandler<C, R>,
  command: C,
  status: ContentfulStatusCode,
): Promise<Response> {
  const user = c.get('user');
  const header = c.req.header('idempotency-key');
  if (header !== undefined && !KEY.test(header)) throw validationError('Idempotency-Key must be 1..200 visible ASCII characters');
  const metadata = { correlation_id: c.get('requestId'), ...(user ? { user_id: user.user_id } : {}) };
  if (!header) return c.json(await executor.execute(handler, command, { metadata }), status);
  const idempotency = {
    key: `${user?.user_id ?? 'anonymous'}:${c.req.method} ${c.req.path}:${header}`,
    requestHash: hashRequest(await c.req.text()),
  };
  const outcome = await executor.executeOnce(handler, command, { metadata, idempotency, status });
  if (!outcome.replayed) return c.json(outcome.result, status);
  c.header('idempotent-replayed', 'true');
  return c.json(outcome.answer.body as object, outcome.answer.status as ContentfulStatusCode);
}

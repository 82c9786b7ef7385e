import type { Context } from 'hono';
import type { EventStore } from '../../platform/eventstore/types.ts';
import type { ReadQueries } from '../queries.ts';
import type { Companions } from '../../platform/readmodel/wait.ts';
import { validationError } from '../../platform/shared/errors.ts';
import { ID_PATTERN } from '../../platform/shared/validate.ts';
import type { AuthEnv, Principal } from '../../platform/http/auth.ts';
import { addressKey } from '../../platform/http/client-address.ts';
import { intQuery, strQuery } from '../../platform/http/params.ts';
import { mayRead } from '../../platform/http/stream-access.ts';

export interface ReadWaitsOptions {
  queries: ReadQueries;
  store: EventStore;
  /** Waits one client (a user, or an anonymous address) may hold at once; more are answered without waiting. */
  perClient: number;
  timeoutMs?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Caller = Context<AuthEnv, any, any>;

/**
 * Read-your-writes (DESIGN §5): a command answers with the stream's new `version`; a query names that version
 * and waits, bounded, until the projector has applied it. If the wait times out the current state is returned
 * with `X-Read-Model-Behind: true` so the client can retry.
 *
 * A wait is only granted for a stream the caller may read, decided before anything else is looked at: otherwise
 * "answers at once" versus "waits 3 s" would tell an anonymous client whether some email is registered or what
 * someone's cart is doing. Admins may wait on anything; a customer on their own user, cart and orders; anyone on
 * products. Stream ids name their kind (`cart-<user>`, `inventory-<product>`, claim streams), so most decisions
 * need no read; a UUID costs one single-item read of the stream's first event (never the whole stream).
 *
 * Each client holds at most `perClient` waits (each holds a database connection while it LISTENs): beyond that,
 * the read model is checked once and the answer marked if it is behind, so one client cannot exhaust the pool.
 */
export function createReadWaits(opts: ReadWaitsOptions) {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const holding = new Map<string, number>();

  const clientKey = (c: Caller): string => {
    const user = c.get('user');
    return user ? `user:${user.user_id}` : `address:${addressKey(c.get('clientAddress') ?? 'unknown')}`;
  };

  const readable = (user: Principal | undefined, aggregateId: string) => mayRead(opts.store, user, aggregateId, ['Product']);

  async function wait(c: Caller, aggregateId: string, minVersion: number, companions?: Companions): Promise<void> {
    const key = clientKey(c);
    const held = holding.get(key) ?? 0;
    const budget = held < opts.perClient ? timeoutMs : 0;
    holding.set(key, held + 1);
    try {
      const also = companions ? await companions(aggregateId) : [];
      const caughtUp = await opts.queries.waitForVersion({ aggregateId, minVersion, also, timeoutMs: budget });
      if (!caughtUp) c.header('x-read-model-behind', 'true');
    } finally {
      const left = (holding.get(key) ?? 1) - 1;
      if (left > 0) holding.set(key, left);
      else holding.delete(key);
    }
  }

  return {
    /**
     * A single resource's stream: `?min_version=N` or `X-Min-Version: N`. Not granted for a stream the caller may
     * not read: the route then answers as it would have (usually 404), without waiting.
     */
    async forVersion(c: Caller, aggregateId: string, companions?: Companions): Promise<void> {
      const header = c.req.header('x-min-version');
      const fromQuery = intQuery(c, 'min_version', { min: 0, max: 1_000_000_000 });
      if (fromQuery === undefined && header !== undefined && !/^\d{1,10}$/.test(header)) {
        throw validationError('invalid X-Min-Version: must be an integer', [{ field: 'x-min-version', message: 'must be an integer' }]);
      }
      const minVersion = fromQuery ?? (header !== undefined ? Number(header) : undefined);
      if (minVersion === undefined || minVersion === 0) return;
      if (!(await readable(c.get('user'), aggregateId))) return;
      await wait(c, aggregateId, minVersion, companions);
    },

    /**
     * Lists have no single stream: `?wait_for=<aggregate_id>:<version>` names the write the client wants to see.
     * A malformed one, or one naming a stream the caller may not read (or that does not exist), is refused:
     * silently ignoring it would silently drop the consistency the client asked for.
     */
    async forWaitFor(c: Caller, companions?: Companions): Promise<void> {
      const waitFor = strQuery(c, 'wait_for', 200);
      if (!waitFor) return;
      const at = waitFor.lastIndexOf(':');
      const aggregateId = waitFor.slice(0, at);
      const digits = waitFor.slice(at + 1);
      if (at <= 0 || !ID_PATTERN.test(aggregateId) || !/^\d{1,10}$/.test(digits)) {
        throw validationError('invalid wait_for: must be <aggregate_id>:<version>', [
          { field: 'wait_for', message: 'must be <aggregate_id>:<version>' },
        ]);
      }
      if (!(await readable(c.get('user'), aggregateId))) {
        throw validationError('invalid wait_for: no stream you can read has this id', [
          { field: 'wait_for', message: 'names no stream you can read' },
        ]);
      }
      if (Number(digits) === 0) return;
      await wait(c, aggregateId, Number(digits), companions);
    },

    /** For tests and metrics: waits held per client. */
    held: () => new Map(holding),
  };
}

export type ReadWaits = ReturnType<typeof createReadWaits>;

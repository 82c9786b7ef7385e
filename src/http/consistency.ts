import type { Context } from 'hono';
import type { ReadQueries } from '../readmodel/queries.ts';
import { validationError } from '../shared/errors.ts';
import { ID_PATTERN } from '../shared/validate.ts';
import { intQuery, strQuery } from './params.ts';

/**
 * Read-your-writes (DESIGN §5): a command answers with the stream's new `version`; a query names that version
 * and waits, bounded, until the projector has applied it. If the wait times out the current state is returned
 * with `X-Read-Model-Behind: true` so the client can retry.
 */
async function waitOrMarkBehind(c: Context, queries: ReadQueries, aggregateId: string, minVersion: number, timeoutMs: number): Promise<void> {
  const caughtUp = await queries.waitForVersion({ aggregateId, minVersion, timeoutMs });
  if (!caughtUp) c.header('x-read-model-behind', 'true');
}

/** A single resource's stream: `?min_version=N` or `X-Min-Version: N`. */
export async function awaitVersion(c: Context, queries: ReadQueries, aggregateId: string, timeoutMs = 3000): Promise<void> {
  const header = c.req.header('x-min-version');
  const fromQuery = intQuery(c, 'min_version', { min: 0, max: 1_000_000_000 });
  const minVersion = fromQuery ?? (header && /^\d{1,10}$/.test(header) ? Number(header) : undefined);
  if (minVersion === undefined || minVersion === 0) return;
  await waitOrMarkBehind(c, queries, aggregateId, minVersion, timeoutMs);
}

/**
 * Lists have no single stream: `?wait_for=<aggregate_id>:<version>` names the write the client wants to see.
 * A malformed one is refused: silently ignoring it would silently drop the consistency the client asked for.
 */
export async function awaitWaitFor(c: Context, queries: ReadQueries, timeoutMs = 3000): Promise<void> {
  const waitFor = strQuery(c, 'wait_for', 200);
  if (!waitFor) return;
  const at = waitFor.lastIndexOf(':');
  const aggregateId = waitFor.slice(0, at);
  const digits = waitFor.slice(at + 1);
  if (at <= 0 || !ID_PATTERN.test(aggregateId) || !/^\d{1,10}$/.test(digits)) {
    throw validationError('invalid wait_for: must be <aggregate_id>:<version>', [{ field: 'wait_for', message: 'must be <aggregate_id>:<version>' }]);
  }
  await waitOrMarkBehind(c, queries, aggregateId, Number(digits), timeoutMs);
}

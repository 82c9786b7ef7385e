import type { Context } from 'hono';
import type { ReadQueries } from '../readmodel/queries.ts';
import { intQuery } from './params.ts';

/**
 * Read-your-writes (DESIGN §5): a command answers with the stream's new `version`; a query sent with
 * `?min_version=N` (or `X-Min-Version: N`) waits, bounded, until the projector has applied it. If the wait
 * times out the current state is returned with `X-Read-Model-Behind: true` so the client can retry.
 */
export async function awaitVersion(c: Context, queries: ReadQueries, aggregateId: string, timeoutMs = 3000): Promise<void> {
  const header = c.req.header('x-min-version');
  const fromQuery = intQuery(c, 'min_version', { min: 0, max: 1_000_000_000 });
  const minVersion = fromQuery ?? (header && /^\d{1,10}$/.test(header) ? Number(header) : undefined);
  if (minVersion === undefined || minVersion === 0) return;
  const caughtUp = await queries.waitForVersion({ aggregateId, minVersion, timeoutMs });
  if (!caughtUp) c.header('x-read-model-behind', 'true');
}

import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { LiveChange, LiveHub } from '../../platform/readmodel/live.ts';
import { AppError } from '../../platform/shared/errors.ts';
import type { LiveChange as LiveChangeAnswer, LiveEventName, LiveReady } from './api-types.ts';
import { requireUser, type AuthEnv, type Principal } from '../../platform/http/auth.ts';
import { waitAtMost } from '../../platform/shared/timeout.ts';

export interface LiveOptions {
  hub: LiveHub;
  /** Open streams per user; one more is a 429 (a browser shares one stream between its tabs). Default 5. */
  maxPerUser?: number;
  /** A comment line this often keeps proxies from closing an idle stream and lets the client spot a dead one. */
  heartbeatMs?: number;
  /** Writes a slow reader may fall behind before its stream is dropped (it reconnects and resyncs). */
  maxQueued?: number;
}

/** Admins see every change; a customer only their own orders, cart and orders' sagas (never someone else's ids). */
const OWNED = new Set(['Order', 'Cart', 'Saga']);
export const visibleTo = (user: Principal, change: LiveChange): boolean =>
  user.role === 'admin' || (OWNED.has(change.aggregate_type) && change.owner === user.user_id);

/** The access token's expiry (already verified by `authenticate`); the stream ends then, so a revoked or
 * expired session cannot keep receiving changes on a stream it opened earlier. */
function tokenExpiry(header: string | undefined): number | undefined {
  const payload = header?.split(' ')[1]?.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * GET /live: Server-Sent Events of read-model changes for the caller (README, HTTP API: `GET /live`).
 * Authorised by the ordinary `Authorization: Bearer` header: the SPA reads the stream with fetch, so no
 * token ever appears in a URL. Events: `ready` first, then `change` {aggregate_id, aggregate_type, version},
 * and `resync` when changes may have been lost; a `: ping` comment every heartbeat.
 */
export function liveRoutes(opts: LiveOptions | undefined) {
  const maxPerUser = opts?.maxPerUser ?? 5;
  const heartbeatMs = opts?.heartbeatMs ?? 15_000;
  const maxQueued = opts?.maxQueued ?? 200;
  const open = new Map<string, number>();
  return new Hono<AuthEnv>().get('/live', (c) => {
    const user = requireUser(c);
    if (!opts) throw new AppError('unavailable', 'live_unavailable', 'live updates are not available on this server');
    const count = open.get(user.user_id) ?? 0;
    if (count >= maxPerUser) {
      throw new AppError(
        'rate_limited',
        'too_many_live_streams',
        `at most ${maxPerUser} live streams per user are open; close one (another tab or device)`,
        {
          extra: { retry_after: 10 },
        },
      );
    }
    open.set(user.user_id, count + 1);
    const expiresAt = tokenExpiry(c.req.header('authorization'));
    c.header('x-accel-buffering', 'no');
    return streamSSE(c, async (stream) => {
      let queued = 0;
      let finish: () => void = () => {};
      const done = new Promise<void>((resolve) => (finish = resolve));
      const send = (message: { event: LiveEventName; data: string } | string) => {
        if (stream.closed || stream.aborted) return;
        if (queued >= maxQueued) return finish();
        queued += 1;
        const write = typeof message === 'string' ? stream.write(message) : stream.writeSSE(message);
        write.then(
          () => (queued -= 1),
          () => finish(),
        );
      };
      const unsubscribe = opts.hub.subscribe({
        change(change) {
          if (!visibleTo(user, change)) return;
          const { owner: _owner, ...data } = change;
          send({ event: 'change', data: JSON.stringify(data satisfies LiveChangeAnswer) });
        },
        resync: () => send({ event: 'resync', data: '{}' }),
        close: () => finish(),
      });
      const heartbeat = setInterval(() => send(': ping\n\n'), heartbeatMs);
      const expiry = expiresAt === undefined ? undefined : setTimeout(finish, Math.max(0, expiresAt - Date.now()));
      stream.onAbort(finish);
      // `ready` promises that later changes arrive: wait (bounded) for the hub's LISTEN to be active.
      await waitAtMost(opts.hub.listening(), 2000);
      send({
        event: 'ready',
        data: JSON.stringify({ user_id: user.user_id, role: user.role, heartbeat_ms: heartbeatMs } satisfies LiveReady),
      });
      try {
        await done;
      } finally {
        unsubscribe();
        clearInterval(heartbeat);
        clearTimeout(expiry);
        const left = (open.get(user.user_id) ?? 1) - 1;
        if (left > 0) open.set(user.user_id, left);
        else open.delete(user.user_id);
      }
    });
  });
}

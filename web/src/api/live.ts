import type { ApiClient } from './client.ts';
import type { LiveChange, LiveReady } from './types.ts';

export type LiveStatus = 'off' | 'connecting' | 'live' | 'reconnecting';

export interface LiveHandlers {
  change(change: LiveChange): void;
  /** Changes may have been missed (first connect after a gap, server resync): refetch everything. */
  resync(): void;
  status(status: LiveStatus): void;
}

/** A stream that was ready and lasted this long worked: its end is not a reason to back off. */
const HEALTHY_MS = 2000;

type Message = { kind: 'change'; change: LiveChange } | { kind: 'resync' } | { kind: 'status'; status: LiveStatus } | { kind: 'hello' };

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** Parses an SSE byte stream into (event, data) pairs; comment lines (heartbeats) only count as activity. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: string, data: string) => void,
  onActivity: () => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onActivity();
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of frame.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) onEvent(event, data.join('\n'));
    }
  }
}

/**
 * The live status stream (GET /live, Server-Sent Events) read with fetch, so the access token travels in the
 * Authorization header and never in a URL (EventSource cannot send headers). Reconnects with exponential
 * backoff and jitter, refreshes the token on a 401, honours Retry-After on a 429, and treats a stream silent
 * for longer than a few heartbeats as dead. One tab per browser holds the stream (a Web Lock) and shares what
 * it hears with the others over a BroadcastChannel: browsers allow only ~6 connections per host over HTTP/1.1.
 */
export function startLive(client: ApiClient, handlers: LiveHandlers): () => void {
  const stop = new AbortController();
  let lastStatus: LiveStatus = 'connecting';
  const dispatch = (m: Message) => {
    if (m.kind === 'change') handlers.change(m.change);
    else if (m.kind === 'resync') handlers.resync();
    else if (m.kind === 'status') handlers.status((lastStatus = m.status));
  };
  const shared = typeof BroadcastChannel !== 'undefined' && typeof navigator !== 'undefined' && !!navigator.locks;
  const channel = shared ? new BroadcastChannel('ec-shop-live') : undefined;
  let leading = false;
  if (channel) {
    channel.onmessage = (e: MessageEvent<Message>) => {
      // A tab that just opened asks the one holding the stream how it is doing.
      if (e.data.kind === 'hello') {
        if (leading) channel.postMessage({ kind: 'status', status: lastStatus } satisfies Message);
      } else if (!leading) dispatch(e.data);
    };
    channel.postMessage({ kind: 'hello' } satisfies Message);
  }
  const emit = (m: Message) => {
    dispatch(m);
    channel?.postMessage(m);
  };

  async function run(): Promise<void> {
    leading = true;
    let delay = 1000;
    let connectedBefore = false;
    while (!stop.signal.aborted) {
      const token = await client.accessToken().catch(() => undefined);
      if (token === null) break; // logged out
      emit({ kind: 'status', status: connectedBefore ? 'reconnecting' : 'connecting' });
      const attempt = new AbortController();
      const abortAttempt = () => attempt.abort();
      stop.signal.addEventListener('abort', abortAttempt, { once: true });
      let wait = delay;
      const openedAt = Date.now();
      let ready = false;
      let ended = false;
      try {
        if (token === undefined) throw new Error('token refresh failed');
        const res = await fetch('/live', {
          headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
          signal: attempt.signal,
          cache: 'no-store',
        });
        if (res.status === 401) {
          await client.refresh(token).catch(() => undefined);
          wait = 0;
        } else if (res.status === 429) {
          wait = Math.max(delay, Number(res.headers.get('retry-after') ?? '5') * 1000);
        } else if (res.ok && res.body) {
          let heartbeat = 15_000;
          let watchdog: ReturnType<typeof setTimeout> | undefined;
          const alive = () => {
            clearTimeout(watchdog);
            watchdog = setTimeout(abortAttempt, heartbeat * 2.5);
          };
          alive();
          try {
            await readEvents(
              res.body,
              (event, data) => {
                if (event === 'ready') {
                  ready = true;
                  heartbeat = (JSON.parse(data) as LiveReady).heartbeat_ms || heartbeat;
                  emit({ kind: 'status', status: 'live' });
                  // Anything that changed while we were not listening is unknown: refetch.
                  if (connectedBefore) emit({ kind: 'resync' });
                  connectedBefore = true;
                } else if (event === 'change') emit({ kind: 'change', change: JSON.parse(data) as LiveChange });
                else if (event === 'resync') emit({ kind: 'resync' });
              },
              alive,
            );
          } finally {
            clearTimeout(watchdog);
          }
          // The server ends a stream when its access token expires (every 15 min; sooner with short test TTLs):
          // a stream that worked and ended is no failure — come back at once with a fresh token.
          ended = true;
        }
      } catch {
        /* network error, watchdog or stop: retry below unless stopped */
      } finally {
        stop.signal.removeEventListener('abort', abortAttempt);
      }
      if (stop.signal.aborted) break;
      const healthy = ready && Date.now() - openedAt > HEALTHY_MS;
      if (healthy) {
        // It worked for a while: whatever ended it, start the backoff afresh.
        delay = 1000;
        wait = ended ? 250 : delay;
      }
      emit({ kind: 'status', status: 'reconnecting' });
      await sleep(wait * (0.8 + Math.random() * 0.4), stop.signal);
      if (!healthy) delay = Math.min(delay * 2, 30_000);
    }
    emit({ kind: 'status', status: 'off' });
    leading = false;
  }

  if (channel && navigator.locks) {
    handlers.status('connecting');
    void navigator.locks.request('ec-shop-live', { signal: stop.signal }, run).catch(() => undefined);
  } else {
    void run();
  }
  return () => {
    stop.abort();
    channel?.close();
    handlers.status('off');
  };
}

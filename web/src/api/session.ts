import type { Me, TokenPair } from './types.ts';

/** Who is logged in and with which tokens. Never rendered: the page shows the user, not credentials. */
export interface Session {
  access_token: string;
  refresh_token: string;
  /** Epoch ms when the access token expires (from expires_in, with the client's clock). */
  access_expires_at: number;
  /** Epoch ms from which the access token is refreshed before use (absent in sessions stored by older builds). */
  refresh_at?: number;
  user: Me;
}

/**
 * Where the session is kept durably, for the one question that must be answered exactly: which refresh token is
 * the newest, across every tab. Read and written only while holding the refresh lock (client.ts).
 */
export interface SessionBackend {
  read(): Promise<string | null>;
  write(value: string | null): Promise<void>;
}

export interface SessionStore {
  /** The session as this tab knows it (synchronous, for rendering). */
  get(): Session | null;
  /**
   * The newest session any tab has written (from the backend), adopted by this tab. Call it holding the refresh
   * lock, right before presenting a refresh token: a spent one would revoke the whole session.
   */
  latest(): Promise<Session | null>;
  /** Changes the session here and in every tab; resolves once the backend has it. */
  set(session: Session | null): Promise<void>;
  /** Called on every change, including changes made by another tab (storage events). */
  subscribe(listener: () => void): () => void;
}

const KEY = 'ec-shop.session';

/** Refresh at most a minute before expiry, and at least a third of the token's life before (short test TTLs). */
export const sessionFrom = (tokens: TokenPair, user: Me, now = Date.now()): Session => {
  const lifetime = tokens.expires_in * 1000;
  return {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    access_expires_at: now + lifetime,
    refresh_at: now + lifetime - Math.min(60_000, lifetime / 3),
    user,
  };
};

/** Whether the access token should be refreshed before it is sent. */
export const refreshDue = (s: Session, now = Date.now()): boolean => now >= (s.refresh_at ?? s.access_expires_at - 60_000);

const isSession = (v: unknown): v is Session => {
  const s = v as Session | null;
  return (
    !!s &&
    typeof s.access_token === 'string' &&
    typeof s.refresh_token === 'string' &&
    typeof s.access_expires_at === 'number' &&
    typeof s.user?.user_id === 'string'
  );
};

export const parseSession = (text: string | null): Session | null => {
  try {
    const parsed: unknown = JSON.parse(text ?? 'null');
    return isSession(parsed) ? parsed : null;
  } catch {
    return null;
  }
};

/**
 * IndexedDB as the backend: its transactions are served by the browser process, so a read that starts after
 * another tab's write has committed sees that write. localStorage gives no such promise across tabs — each
 * renderer keeps its own copy, updated by messages that may arrive after the refresh lock has passed to this
 * tab — and a stale refresh token presented once revokes the session.
 */
export function indexedDbBackend(factory: IDBFactory = indexedDB): SessionBackend {
  let opened: Promise<IDBDatabase> | undefined;
  const db = () =>
    (opened ??= new Promise<IDBDatabase>((resolve, reject) => {
      const req = factory.open('ec-shop', 1);
      req.onupgradeneeded = () => req.result.createObjectStore('session');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    }).catch((err: unknown) => {
      opened = undefined;
      throw err;
    }));
  const run = async (mode: IDBTransactionMode, fn: (store: IDBObjectStore) => { readonly result: unknown }): Promise<unknown> => {
    const tx = (await db()).transaction('session', mode);
    const req = fn(tx.objectStore('session'));
    return new Promise<unknown>((resolve, reject) => {
      // Resolved on commit, not on the request's success: only a committed write is visible to the next tab.
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  };
  return {
    read: async () => {
      const value = await run('readonly', (s) => s.get(KEY));
      return typeof value === 'string' ? value : null;
    },
    write: async (value) => {
      await run('readwrite', (s) => (value === null ? s.delete(KEY) : s.put(value, KEY)));
    },
  };
}

/** The backend when IndexedDB is not there (some private modes): the same storage, with its weaker promise. */
const storageBackend = (storage: Storage): SessionBackend => ({
  read: async () => storage.getItem(KEY),
  write: async (value) => (value === null ? storage.removeItem(KEY) : storage.setItem(KEY, value)),
});

/**
 * Tokens live in the browser's storage: a reload or a second tab keeps the session (a link opened in a new tab
 * works), and a log-out in one tab logs out every tab. localStorage holds this tab's synchronous view and
 * carries changes to the other tabs (storage events); IndexedDB holds the authoritative copy that refreshes read
 * under the lock. The strict CSP (scripts from 'self' only, no inline script) is what keeps injected script
 * from reading either.
 */
export function createSessionStore(
  opts: { storage?: Storage; backend?: SessionBackend; target?: Pick<EventTarget, 'addEventListener'> } = {},
): SessionStore {
  const storage = opts.storage ?? window.localStorage;
  const backend = opts.backend ?? (typeof indexedDB !== 'undefined' ? indexedDbBackend() : storageBackend(storage));
  const listeners = new Set<() => void>();
  let cached: Session | null | undefined;
  const notify = () => {
    for (const l of listeners) l();
  };
  const mirror = (session: Session | null) => {
    cached = session;
    if (session) storage.setItem(KEY, JSON.stringify(session));
    else storage.removeItem(KEY);
    notify();
  };
  (opts.target ?? window).addEventListener('storage', (e) => {
    const key = (e as StorageEvent).key;
    if (key !== KEY && key !== null) return;
    cached = parseSession(storage.getItem(KEY));
    notify();
  });
  const get = () => (cached === undefined ? (cached = parseSession(storage.getItem(KEY))) : cached);
  return {
    get,
    async latest() {
      let text: string | null;
      try {
        text = await backend.read();
      } catch {
        return get();
      }
      const newest = parseSession(text);
      if (!newest) {
        // Logged out in another tab (whose storage event may not have arrived yet) — unless this is a session
        // an older build kept in localStorage only (no refresh_at): adopt that one.
        const local = get();
        if (text === null && local && local.refresh_at === undefined) {
          await backend.write(JSON.stringify(local)).catch(() => undefined);
          return local;
        }
        if (local) mirror(null);
        return null;
      }
      if (JSON.stringify(newest) !== JSON.stringify(get())) mirror(newest);
      return newest;
    },
    async set(session) {
      mirror(session);
      await backend.write(session ? JSON.stringify(session) : null);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

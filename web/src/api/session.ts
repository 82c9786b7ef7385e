import type { Me, TokenPair } from './types.ts';

/** Who is logged in and with which tokens. Never rendered: the page shows the user, not credentials. */
export interface Session {
  access_token: string;
  refresh_token: string;
  /** Epoch ms when the access token expires (from expires_in, with the client's clock). */
  access_expires_at: number;
  user: Me;
}

export interface SessionStore {
  get(): Session | null;
  /** Reads storage again (another tab may have rotated the tokens a moment ago). */
  reload(): Session | null;
  set(session: Session | null): void;
  /** Called on every change, including changes made by another tab (storage events). */
  subscribe(listener: () => void): () => void;
}

const KEY = 'ec-shop.session';

export const sessionFrom = (tokens: TokenPair, user: Me, now = Date.now()): Session => ({
  access_token: tokens.access_token,
  refresh_token: tokens.refresh_token,
  access_expires_at: now + tokens.expires_in * 1000,
  user,
});

const isSession = (v: unknown): v is Session => {
  const s = v as Session | null;
  return !!s && typeof s.access_token === 'string' && typeof s.refresh_token === 'string' && typeof s.access_expires_at === 'number' && typeof s.user?.user_id === 'string';
};

/**
 * Tokens live in localStorage: a reload or a second tab keeps the session (a link opened in a new tab works),
 * and a log-out in one tab logs out every tab (storage events). The strict CSP (scripts from 'self' only, no
 * inline script) is what keeps injected script from reading them; refreshes across tabs are serialised with
 * the Web Locks API (client.ts) because refresh tokens rotate.
 */
export function createSessionStore(storage: Storage = window.localStorage): SessionStore {
  const listeners = new Set<() => void>();
  let cached: Session | null | undefined;
  const read = (): Session | null => {
    try {
      const parsed: unknown = JSON.parse(storage.getItem(KEY) ?? 'null');
      return isSession(parsed) ? parsed : null;
    } catch {
      return null;
    }
  };
  window.addEventListener('storage', (e) => {
    if (e.key !== KEY && e.key !== null) return;
    cached = read();
    for (const l of listeners) l();
  });
  return {
    get: () => (cached === undefined ? (cached = read()) : cached),
    reload: () => (cached = read()),
    set(session) {
      cached = session;
      if (session) storage.setItem(KEY, JSON.stringify(session));
      else storage.removeItem(KEY);
      for (const l of listeners) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

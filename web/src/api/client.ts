import { refreshDue, sessionFrom, type Session, type SessionStore } from './session.ts';
import type { FieldError, LoginRequest, Me, Problem, RegisterRequest, Registered, TokenPair } from './types.ts';

/** A refused request: the problem details the api answered (or one made up for a network failure). */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail);
    this.name = 'ApiError';
    this.status = problem.status;
    this.problem = problem;
  }
  /** The message for one field of a validation problem (errors[]), if any. */
  fieldError(field: string): string | undefined {
    return (this.problem.errors as FieldError[] | undefined)?.find((e) => e.field === field)?.message;
  }
}

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;

export interface RequestOptions {
  body?: unknown;
  /** Send the access token (default: when logged in). */
  auth?: boolean;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export interface ApiClient {
  request<T>(method: string, path: string, opts?: RequestOptions): Promise<T>;
  get<T>(path: string, opts?: RequestOptions): Promise<T>;
  post<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T>;
  put<T>(path: string, body?: unknown): Promise<T>;
  del<T>(path: string): Promise<T>;
  login(req: LoginRequest): Promise<Me>;
  register(req: RegisterRequest): Promise<Registered>;
  logout(): Promise<void>;
  /** A usable access token, refreshed first when it is about to expire; null when logged out. */
  accessToken(): Promise<string | null>;
  /** Rotates the tokens now (after a 401). Resolves null, and logs out, when the session is over. */
  refresh(staleAccessToken: string): Promise<string | null>;
  session: SessionStore;
}

/** Mutual exclusion across the tabs of one browser (the Web Locks API); injectable for tests. */
export interface Locks {
  request<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

const browserLocks = (): Locks | undefined =>
  typeof navigator !== 'undefined' && navigator.locks
    ? { request: (name, fn) => navigator.locks.request(name, fn) as Promise<never> }
    : undefined;

async function problemOf(res: Response): Promise<Problem> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<Problem>;
    if (body && typeof body.detail === 'string')
      return { type: 'about:blank', title: res.statusText, ...body, status: res.status } as Problem;
  } catch {
    /* not JSON */
  }
  return { type: 'about:blank', title: res.statusText || 'Error', status: res.status, detail: text.slice(0, 300) || `HTTP ${res.status}` };
}

const networkProblem = (err: unknown): Problem => ({
  type: 'about:blank',
  title: 'Network error',
  status: 0,
  detail: `サーバーに接続できません (${(err as Error)?.message ?? err})`,
});

/**
 * fetch with the session: JSON in and out, problem details as ApiError, access tokens refreshed transparently
 * (before expiry, or once after a 401). Refresh tokens rotate and the api revokes the whole session when a spent
 * one is presented again, so a refresh token is presented at most once, ever: concurrent requests of a tab share
 * one refresh in flight, and across tabs refreshes run one at a time under a Web Lock, each first reading the
 * newest session from IndexedDB (session.ts), which the previous holder wrote before releasing the lock.
 */
export function createApiClient(opts: { session: SessionStore; onLoggedOut: () => void; fetch?: typeof fetch; locks?: Locks }): ApiClient {
  const { session } = opts;
  const doFetch = opts.fetch ?? ((input: RequestInfo, init?: RequestInit) => window.fetch(input, init));
  const locks = opts.locks ?? browserLocks();
  let inFlight: Promise<string | null> | undefined;

  const endSession = async () => {
    if (session.get()) await session.set(null).catch(() => undefined);
    opts.onLoggedOut();
  };

  const withLock = <T>(fn: () => Promise<T>): Promise<T> => (locks ? locks.request('ec-shop-refresh', fn) : fn());

  async function rotate(stale: string | null): Promise<string | null> {
    return withLock(async () => {
      const current = await session.latest();
      if (!current) return null;
      // Another request or tab rotated while we waited for the lock: use its tokens.
      if (current.access_token !== stale && !refreshDue(current)) return current.access_token;
      let res: Response;
      try {
        res = await doFetch('/auth/refresh', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refresh_token: current.refresh_token }),
        });
      } catch (err) {
        // The token may or may not have been spent: the next attempt reads storage again and finds out (401).
        throw new ApiError(networkProblem(err));
      }
      if (res.status === 401 || res.status === 400 || res.status === 403) {
        await endSession();
        return null;
      }
      if (!res.ok) throw new ApiError(await problemOf(res));
      const tokens = (await res.json()) as TokenPair;
      const next: Session = sessionFrom(tokens, current.user);
      // Committed before the lock is released: the next holder, in any tab, presents this refresh token.
      await session.set(next);
      return next.access_token;
    });
  }

  function refresh(stale: string | null): Promise<string | null> {
    inFlight ??= rotate(stale).finally(() => (inFlight = undefined));
    return inFlight;
  }

  async function accessToken(): Promise<string | null> {
    const current = session.get();
    if (!current) return null;
    if (!refreshDue(current)) return current.access_token;
    return refresh(current.access_token);
  }

  async function send(method: string, path: string, token: string | null, o: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await doFetch(path, {
        method,
        headers,
        ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err;
      throw new ApiError(networkProblem(err));
    }
  }

  async function request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const wantsAuth = o.auth ?? true;
    let token = wantsAuth ? await accessToken() : null;
    let res = await send(method, path, token, o);
    if (res.status === 401 && token) {
      token = await refresh(token);
      if (!token) throw new ApiError(await problemOf(res));
      res = await send(method, path, token, o);
      if (res.status === 401) {
        await endSession();
        throw new ApiError(await problemOf(res));
      }
    }
    if (!res.ok) throw new ApiError(await problemOf(res));
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  return {
    session,
    request,
    get: (path, o) => request('GET', path, o),
    post: (path, body, o) => request('POST', path, { ...o, body }),
    put: (path, body) => request('PUT', path, { body }),
    del: (path) => request('DELETE', path),
    accessToken,
    refresh: (stale) => refresh(stale),
    async login(req) {
      const tokens = await request<TokenPair>('POST', '/auth/login', { body: req, auth: false });
      const me = await request<Me>('GET', '/me', { auth: false, headers: { authorization: `Bearer ${tokens.access_token}` } });
      await session.set(sessionFrom(tokens, me));
      return me;
    },
    register: (req) => request<Registered>('POST', '/auth/register', { body: req, auth: false }),
    async logout() {
      // Revoke the refresh token's family on the server when it can; log out locally whatever it answers.
      // Under the refresh lock: the token revoked is the newest, not one another tab is rotating right now.
      await withLock(async () => {
        const current = (await session.latest().catch(() => null)) ?? session.get();
        if (current) await send('POST', '/auth/logout', null, { body: { refresh_token: current.refresh_token } }).catch(() => undefined);
        await session.set(null).catch(() => undefined);
      });
    },
  };
}

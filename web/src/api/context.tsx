import { QueryClient, QueryClientProvider, useQueryClient, type QueryKey } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { createApiClient, isApiError, type ApiClient } from './client.ts';
import { startLive, type LiveStatus } from './live.ts';
import { createSessionStore, type Session } from './session.ts';
import type { LiveChange } from './types.ts';

/**
 * Read-your-writes: a command answers the stream's new version; the next read of that stream asks the api to
 * wait for it (`?min_version=`), so the page never shows the state from before the click.
 */
export interface Versions {
  note(aggregateId: string, version: number): void;
  /** `?min_version=N` (or '' when nothing is owed) for a query of this stream. */
  param(aggregateId: string, sep?: '?' | '&'): string;
}

interface Shell {
  client: ApiClient;
  versions: Versions;
  queryClient: QueryClient;
}

const ShellContext = createContext<Shell | null>(null);
const LiveContext = createContext<LiveStatus>('off');

function createVersions(): Versions {
  const owed = new Map<string, number>();
  return {
    note: (id, v) => owed.set(id, Math.max(v, owed.get(id) ?? 0)),
    param: (id, sep = '?') => {
      const v = owed.get(id);
      return v ? `${sep}min_version=${v}` : '';
    },
  };
}

/** What each kind of change makes stale; TanStack Query refetches only what is on screen. */
function staleKeys(change: LiveChange): QueryKey[] {
  const id = change.aggregate_id;
  const common: QueryKey[] = [['stream', id], ['state', id], ['events']];
  switch (change.aggregate_type) {
    case 'Order':
    case 'Shipment':
      return [...common, ['orders'], ['order'], ['statistics'], ['dashboard'], ['sagas'], ['inventory']];
    case 'Cart':
      return [...common, ['cart']];
    case 'Inventory':
      // StockReturned is part of a fulfilment saga's compensation.
      return [...common, ['inventory'], ['products'], ['product', id.replace(/^inventory-/, '')], ['sagas']];
    case 'Product':
      return [...common, ['products'], ['product', id], ['inventory']];
    case 'Saga':
      // The worker recorded a step: the saga log and the order timelines that show it.
      return [['sagas'], ['order'], ['orders']];
    case 'Category':
      return [...common, ['categories'], ['products']];
    default:
      return common;
  }
}

function redirectToLogin() {
  const current = window.location.hash.replace(/^#/, '') || '/products';
  if (current.startsWith('/login') || current.startsWith('/register')) return;
  window.location.hash = `#/login?next=${encodeURIComponent(current)}`;
}

export function ShellProvider({ children }: { children: ReactNode }) {
  const shell = useMemo<Shell>(() => {
    const session = createSessionStore();
    const queryClient = new QueryClient({
      defaultOptions: {
        queries: {
          staleTime: 10_000,
          // A refused request (4xx) will be refused again; retry only what may be transient.
          retry: (count, error) => count < 2 && !(isApiError(error) && error.status >= 400 && error.status < 500),
        },
      },
    });
    const client = createApiClient({
      session,
      onLoggedOut: () => {
        queryClient.clear();
        redirectToLogin();
      },
    });
    // Another user (or nobody) from now on, in this tab or another: nothing cached may leak across.
    let user = session.get()?.user.user_id;
    session.subscribe(() => {
      const next = session.get()?.user.user_id;
      if (next !== user) queryClient.clear();
      user = next;
    });
    return { client, versions: createVersions(), queryClient };
  }, []);
  return (
    <ShellContext.Provider value={shell}>
      <QueryClientProvider client={shell.queryClient}>
        <LiveBridge>{children}</LiveBridge>
      </QueryClientProvider>
    </ShellContext.Provider>
  );
}

/** Keeps the live stream open while someone is logged in and turns its changes into query invalidations. */
function LiveBridge({ children }: { children: ReactNode }) {
  const { client } = useShell();
  const queryClient = useQueryClient();
  const session = useSession();
  const [status, setStatus] = useState<LiveStatus>('off');
  const userId = session?.user.user_id;
  useEffect(() => {
    if (!userId) return;
    let pending: LiveChange[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Changes come in bursts (a checkout touches an order, a cart and every line's stock): one refetch each.
    const flush = () => {
      timer = undefined;
      const keys = new Map<string, QueryKey>();
      for (const change of pending) for (const key of staleKeys(change)) keys.set(JSON.stringify(key), key);
      pending = [];
      for (const key of keys.values()) void queryClient.invalidateQueries({ queryKey: key });
    };
    const stop = startLive(client, {
      change(change) {
        pending.push(change);
        timer ??= setTimeout(flush, 150);
      },
      resync: () => void queryClient.invalidateQueries(),
      status: setStatus,
    });
    return () => {
      stop();
      clearTimeout(timer);
    };
  }, [client, queryClient, userId]);
  return <LiveContext.Provider value={status}>{children}</LiveContext.Provider>;
}

export function useShell(): Shell {
  const shell = useContext(ShellContext);
  if (!shell) throw new Error('useShell outside ShellProvider');
  return shell;
}

export const useApi = (): ApiClient => useShell().client;
export const useVersions = (): Versions => useShell().versions;
export const useLiveStatus = (): LiveStatus => useContext(LiveContext);

export function useSession(): Session | null {
  const { client } = useShell();
  return useSyncExternalStore(client.session.subscribe, client.session.get);
}

import { keepPreviousData, useQueries, useQuery } from '@tanstack/react-query';
import { useApi, useSession, useVersions } from './context.tsx';
import { indexEvents, sagaStreams, type EventRef } from './sagas.ts';
import type {
  AggregateState,
  Cart,
  CategoryList,
  Dashboard,
  DeadLetterSummary,
  EventPage,
  Inventory,
  LagReport,
  OpsLinks,
  Order,
  OrderStatistics,
  Page,
  Product,
  Readiness,
  Saga,
  SagaPage,
  Stream,
} from './types.ts';

/** A query string from the defined, non-empty values only. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : '';
}

export const cartStreamId = (userId: string) => `cart-${userId}`;

/** `wait_for`: `<aggregate_id>:<version>` of a write the list must already show (read-your-writes for lists). */
export function useProducts(params: { q?: string; category?: string; cursor?: string; limit?: number; wait_for?: string }) {
  const api = useApi();
  return useQuery({
    queryKey: ['products', params],
    queryFn: ({ signal }) => api.get<Page<Product>>(`/products${qs(params)}`, { signal }),
    placeholderData: keepPreviousData,
  });
}

export function useProduct(id: string) {
  const api = useApi();
  const versions = useVersions();
  return useQuery({
    queryKey: ['product', id],
    queryFn: ({ signal }) => api.get<Product>(`/products/${encodeURIComponent(id)}${versions.param(id)}`, { signal }),
  });
}

export function useCategories() {
  const api = useApi();
  return useQuery({
    queryKey: ['categories'],
    queryFn: ({ signal }) => api.get<CategoryList>('/categories', { signal }),
    staleTime: 60_000,
  });
}

export function useCart() {
  const api = useApi();
  const versions = useVersions();
  const session = useSession();
  const id = session ? cartStreamId(session.user.user_id) : '';
  return useQuery({
    queryKey: ['cart', session?.user.user_id],
    queryFn: ({ signal }) => api.get<Cart>(`/cart${versions.param(id)}`, { signal }),
    enabled: !!session,
  });
}

/** `mine`: the caller's own orders (an admin's too); otherwise every order (admin). */
export function useOrders(params: { mine: boolean; status?: string; cursor?: string }) {
  const api = useApi();
  const path = params.status ? `/orders/status/${params.status}` : '/orders';
  return useQuery({
    queryKey: ['orders', params],
    queryFn: ({ signal }) =>
      api.get<Page<Order>>(`${path}${qs({ mine: params.mine ? 1 : undefined, cursor: params.cursor, limit: 20 })}`, { signal }),
    placeholderData: keepPreviousData,
  });
}

export function useOrder(id: string) {
  const api = useApi();
  const versions = useVersions();
  return useQuery({
    queryKey: ['order', id],
    queryFn: ({ signal }) => api.get<Order>(`/orders/${encodeURIComponent(id)}${versions.param(id)}`, { signal }),
  });
}

export function useStream(id: string, enabled = true) {
  const api = useApi();
  return useQuery({
    queryKey: ['stream', id],
    queryFn: ({ signal }) => api.get<Stream>(`/events/${encodeURIComponent(id)}`, { signal }),
    enabled,
  });
}

export function useAggregateState(id: string, point: { version?: number; at?: string }) {
  const api = useApi();
  return useQuery({
    queryKey: ['state', id, point],
    queryFn: ({ signal }) => api.get<AggregateState>(`/events/${encodeURIComponent(id)}/state${qs(point)}`, { signal }),
    placeholderData: keepPreviousData,
  });
}

export function useEvents(params: { type?: string; aggregate_type?: string; before?: string }) {
  const api = useApi();
  return useQuery({
    queryKey: ['events', params],
    queryFn: ({ signal }) => api.get<EventPage>(`/events${qs({ ...params, limit: 50 })}`, { signal }),
    placeholderData: keepPreviousData,
  });
}

export function useInventory(cursor?: string) {
  const api = useApi();
  return useQuery({
    queryKey: ['inventory', cursor],
    queryFn: ({ signal }) => api.get<Page<Inventory>>(`/inventory${qs({ cursor, limit: 50 })}`, { signal }),
    placeholderData: keepPreviousData,
  });
}

export function useStatistics() {
  const api = useApi();
  return useQuery({ queryKey: ['statistics'], queryFn: ({ signal }) => api.get<OrderStatistics>('/orders/statistics', { signal }) });
}

export function useDashboard() {
  const api = useApi();
  return useQuery({ queryKey: ['dashboard'], queryFn: ({ signal }) => api.get<Dashboard>('/dashboard', { signal }) });
}

export function useSagas(params: { status?: string; type?: string; order_id?: string; cursor?: string }) {
  const api = useApi();
  return useQuery({
    queryKey: ['sagas', params],
    queryFn: ({ signal }) => api.get<SagaPage>(`/sagas${qs({ ...params, limit: 20 })}`, { signal }),
    placeholderData: keepPreviousData,
  });
}

/**
 * The events a saga's steps name, looked up in the streams it may have written to (its order, the shipment, the
 * inventory of each product): the saga log keeps event ids, the event store knows what they are. Loaded when
 * asked for (`enabled`), since a page of sagas would otherwise read every stream of every order on it.
 */
export function useSagaEvents(saga: Saga, enabled: boolean): { events: Map<string, EventRef>; isPending: boolean; error: unknown } {
  const api = useApi();
  const orderId = saga.order_id ?? '';
  const order = useQuery({
    queryKey: ['order', orderId],
    queryFn: ({ signal }) => api.get<Order>(`/orders/${encodeURIComponent(orderId)}`, { signal }),
    enabled: enabled && !!orderId,
  });
  const ids = order.data
    ? sagaStreams(
        orderId,
        order.data.items.map((i) => i.product_id),
      )
    : [];
  const streams = useQueries({
    queries: ids.map((id) => ({
      queryKey: ['stream', id],
      queryFn: ({ signal }: { signal: AbortSignal }) => api.get<Stream>(`/events/${encodeURIComponent(id)}`, { signal }),
      enabled,
      // A reservation-expiry saga's order has no shipment stream: a 404 is an answer, not a failure to retry.
      retry: false,
    })),
  });
  return {
    events: indexEvents(streams.map((s) => s.data)),
    isPending: enabled && (order.isPending || streams.some((s) => s.isPending)),
    error: order.error,
  };
}

/** Consumer lag is the one screen that polls: Kafka offsets do not go through the read model's NOTIFY. */
export function useLag() {
  const api = useApi();
  return useQuery({ queryKey: ['lag'], queryFn: ({ signal }) => api.get<LagReport>('/ops/lag', { signal }), refetchInterval: 3000 });
}

export function useReadiness() {
  return useQuery({
    queryKey: ['readyz'],
    // 503 "not ready" still carries the checks: read it as data, not as an error.
    queryFn: async ({ signal }) => {
      const res = await fetch('/readyz', { signal });
      return (await res.json()) as Readiness;
    },
    refetchInterval: 5000,
  });
}

export function useDeadLetters() {
  const api = useApi();
  return useQuery({
    queryKey: ['dlq'],
    queryFn: ({ signal }) => api.get<DeadLetterSummary>('/ops/dlq', { signal }),
    refetchInterval: 5000,
  });
}

export function useLinks() {
  const api = useApi();
  return useQuery({ queryKey: ['links'], queryFn: ({ signal }) => api.get<OpsLinks>('/ops/links', { signal }), staleTime: Infinity });
}

/**
 * The HTTP API's requests and answers, as the browser SPA (web/) and any other client sees them. Pure types:
 * no runtime import, nothing from Node or an SDK, so the browser build can import this file as it is.
 * The server's own types are checked against these at compile time (api-types.conformance.ts), so a field
 * renamed in a query or a route without updating this file fails `make typecheck` instead of the browser.
 * JSON field names are snake_case; money is integer yen; instants are ISO-8601 UTC strings.
 */

// ── errors ──────────────────────────────────────────────────────────────────────────────────────────────────

export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details (`application/problem+json`), plus what the error carries (e.g. `product_id`). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  /** The human-readable message, e.g. `insufficient stock: available=1, requested=2`. */
  detail: string;
  /** Stable machine-readable code, e.g. `insufficient_stock`. */
  code?: string;
  instance?: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

/** A keyset page: pass `next_cursor` back as `cursor`; null on the last page. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

// ── auth ────────────────────────────────────────────────────────────────────────────────────────────────────

export type Role = 'customer' | 'admin';

export interface LoginRequest {
  email: string;
  password: string;
}

export interface RegisterRequest {
  email: string;
  password: string;
  name: string;
}

export interface RefreshRequest {
  refresh_token: string;
}

export type LogoutRequest = RefreshRequest;

/** POST /auth/login and /auth/refresh. Each refresh answers a NEW refresh token; the old one is spent. */
export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  /** Seconds until the access token expires. */
  expires_in: number;
}

export interface User {
  user_id: string;
  email: string;
  name: string;
  role: Role;
  version: number;
}

/** POST /auth/register (201) and GET /me. */
export type Registered = User;
export type Me = User;

// ── catalog ─────────────────────────────────────────────────────────────────────────────────────────────────

export interface Category {
  id: string;
  name: string;
  created_at: string;
}

export interface CategoryList {
  items: Category[];
}

export interface CreateCategoryRequest {
  name: string;
}

export interface CategoryCreated {
  id: string;
  category_id: string;
  name: string;
  created_at: string;
  version: number;
}

export interface Product {
  id: string;
  name: string;
  description: string;
  price: number;
  category_id: string | null;
  category_name: string | null;
  /** What a buyer can still order (= available_quantity). */
  stock: number;
  total_quantity: number;
  reserved_quantity: number;
  available_quantity: number;
  deleted: boolean;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface CreateProductRequest {
  name: string;
  description?: string;
  price: number;
  stock?: number;
  /** A category id or name; null for none. */
  category?: string | null;
}

export interface UpdateProductRequest {
  name?: string;
  description?: string;
  price?: number;
  category?: string | null;
}

/** Every product command answers the product id and the product stream's new version (for ?min_version=). */
export interface ProductChanged {
  id: string;
  version: number;
}

// ── inventory ───────────────────────────────────────────────────────────────────────────────────────────────

export interface Reservation {
  reservation_id: string;
  order_id: string;
  quantity: number;
  expires_at: string;
}

export interface Inventory {
  product_id: string;
  name: string | null;
  total_quantity: number;
  reserved_quantity: number;
  available_quantity: number;
  reservations: Reservation[];
  updated_at: string;
  version: number;
}

export interface AddStockRequest {
  quantity: number;
}

export interface StockAdded {
  product_id: string;
  total_quantity: number;
  reserved_quantity: number;
  available_quantity: number;
  /** Version of the inventory stream `inventory-<product_id>`. */
  version: number;
}

// ── cart ────────────────────────────────────────────────────────────────────────────────────────────────────

export interface LineItem {
  product_id: string;
  name: string;
  /** Unit price, yen. */
  price: number;
  quantity: number;
  subtotal: number;
}

export interface Cart {
  cart_id: string;
  user_id: string;
  items: LineItem[];
  total: number;
  item_count: number;
  version: number;
  updated_at: string | null;
}

export interface AddCartItemRequest {
  product_id: string;
  /** 1 when left out. */
  quantity?: number;
}

export interface CartChanged {
  cart_id: string;
  user_id: string;
  version: number;
}

// ── orders ──────────────────────────────────────────────────────────────────────────────────────────────────

export type OrderStatus = 'pending' | 'paid' | 'shipped' | 'delivered' | 'cancelled' | 'shipment_failed';

export interface Shipment {
  shipment_id: string;
  status: 'initiated' | 'completed' | 'failed' | 'cancelled';
  tracking_number: string | null;
  reason: string | null;
  initiated_at: string | null;
  completed_at: string | null;
  failed_at: string | null;
  version: number;
  carrier: string | null;
  carrier_reference: string | null;
  requested_at: string | null;
  dispatched_by: 'carrier' | 'admin' | null;
  cancelled_at: string | null;
}

/** The fulfilment saga of a paid order, as GET /orders/{id} shows it (null before it started). */
export interface Fulfilment {
  saga_id: string;
  status: SagaStatus;
  shipment_id: string | null;
  carrier: string | null;
  tracking_number: string | null;
  failure_reason: string | null;
  steps: Array<{ step: string; status: SagaStepStatus; at: string }>;
}

export interface Order {
  order_id: string;
  user_id: string;
  user_email: string;
  items: LineItem[];
  total: number;
  status: OrderStatus;
  reason: string | null;
  cancelled_by: string | null;
  tracking_number: string | null;
  /** Payment deadline of a pending order. */
  expires_at: string | null;
  placed_at: string;
  paid_at: string | null;
  shipped_at: string | null;
  delivered_at: string | null;
  cancelled_at: string | null;
  shipment_failed_at: string | null;
  /** Set once the payment was refunded (a paid order cancelled before dispatch, or its shipment failed). */
  refunded_amount: number | null;
  refunded_at: string | null;
  updated_at: string;
  version: number;
  shipment: Shipment | null;
  fulfilment: Fulfilment | null;
}

/** POST /orders (201). */
export interface OrderPlaced {
  order_id: string;
  status: OrderStatus;
  total: number;
  items: LineItem[];
  expires_at: string;
  placed_at: string;
  version: number;
}

/** POST /orders/{id}/pay, /cancel, /ship, /deliver. */
export interface OrderChanged {
  order_id: string;
  status: OrderStatus;
  version: number;
}

export interface CancelOrderRequest {
  reason: string;
}

export interface ShipOrderRequest {
  tracking_number: string;
}

export interface OrderStatistics {
  total_count: number;
  pending_count: number;
  paid_count: number;
  shipped_count: number;
  delivered_count: number;
  cancelled_count: number;
  shipment_failed_count: number;
  total_revenue: number;
}

// ── events and time travel ──────────────────────────────────────────────────────────────────────────────────

export interface StoredEvent {
  event_id: string;
  aggregate_id: string;
  aggregate_type: string;
  event_type: string;
  version: number;
  data: Record<string, unknown>;
  /** correlation_id, causation_id, user_id. */
  metadata: Record<string, unknown>;
  created_at: string;
}

/** GET /events: newest first; pass `next_before` back as `before`. */
export interface EventPage {
  items: StoredEvent[];
  next_before: string | null;
}

/** GET /events/{aggregate_id}: the whole stream from the event store, oldest first. */
export interface Stream {
  aggregate_id: string;
  aggregate_type: string;
  version: number;
  events: StoredEvent[];
}

/** GET /events/{aggregate_id}/state?at=<instant>&version=<n>: the aggregate folded up to that point. */
export interface AggregateState {
  aggregate_id: string;
  aggregate_type: string;
  at: string | null;
  version: number;
  exists: boolean;
  state: unknown;
}

// ── sagas ───────────────────────────────────────────────────────────────────────────────────────────────────

export type SagaStatus = 'running' | 'completed' | 'compensated' | 'failed';
export type SagaStepStatus = 'completed' | 'failed' | 'skipped';

export interface SagaStep {
  step: string;
  status: SagaStepStatus;
  at: string;
  detail: Record<string, unknown>;
  event_ids: string[];
}

export interface Saga {
  saga_id: string;
  saga_type: 'fulfilment' | 'reservation_expiry';
  /** The order the saga is about (null only for a saga recorded without one). */
  order_id: string | null;
  status: SagaStatus;
  started_at: string;
  updated_at: string;
  /** In the order they happened; the event ids name the events each step wrote or was made of. */
  steps: SagaStep[];
}

/** GET /sagas?order_id=&status=&type=&limit=&cursor= (admin): newest first. GET /sagas/{saga_id} answers one Saga. */
export type SagaPage = Page<Saga>;

// ── marketing and dashboard ─────────────────────────────────────────────────────────────────────────────────

export interface MarketingOverview {
  customer_count: number;
  paying_customer_count: number;
  order_count: number;
  paid_order_count: number;
  total_revenue: number;
  average_order_value: number;
}

export interface CustomerValue {
  user_id: string;
  email: string | null;
  name: string | null;
  order_count: number;
  paid_order_count: number;
  /** Lifetime value: totals of paid orders. */
  total_spent: number;
  last_order_at: string | null;
}

export interface ProductPopularity {
  product_id: string;
  name: string;
  units_sold: number;
  revenue: number;
  order_count: number;
}

export interface DailySales {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  order_count: number;
  revenue: number;
}

export interface Dashboard {
  overview: MarketingOverview;
  statistics: OrderStatistics;
  top_customers: CustomerValue[];
  popular_products: ProductPopularity[];
  daily_sales: DailySales[];
}

// ── operations ──────────────────────────────────────────────────────────────────────────────────────────────

export interface PartitionLag {
  group: string;
  partition: number;
  committed_offset: number | null;
  end_offset: number;
  lag: number;
}

export interface GroupLag {
  group: string;
  state: string;
  members: number;
  partitions: PartitionLag[];
  total_lag: number;
}

export interface LagReport {
  topic: string;
  groups: GroupLag[];
  total_lag: number;
}

/** GET /ops/dlq: records consumers gave up on (undecodable, or failing after retries), per partition. */
export interface DeadLetterSummary {
  topic: string;
  partitions: Array<{ partition: number; messages: number }>;
  total: number;
}

export interface Readiness {
  status: 'ready' | 'not ready';
  checks: Record<string, boolean>;
}

/** GET /ops/links: where the browser finds the side tools ('' when not configured). */
export interface OpsLinks {
  kafkaUi: string;
  mailUi: string;
  dynamodbAdmin: string;
}

// ── live status (GET /live, Server-Sent Events) ─────────────────────────────────────────────────────────────

/**
 * `event: change`: the read model now reflects `version` of this stream. Refetch what shows it. A saga step the
 * worker recorded is a change too: `aggregate_type` 'Saga', its saga id, and its number of steps as `version`.
 */
export interface LiveChange {
  aggregate_id: string;
  aggregate_type: string;
  version: number;
}

/** `event: ready`, first on every stream: who it is for and how often to expect a heartbeat. */
export interface LiveReady {
  user_id: string;
  role: Role;
  heartbeat_ms: number;
}

/** SSE event names on GET /live. `resync`: changes may have been missed (refetch everything). */
export type LiveEventName = 'ready' | 'change' | 'resync';

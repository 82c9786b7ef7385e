-- Up Migration
-- 001, the baseline: the schema as it was before migrations (init.sql + src/worker/schema.sql), verbatim and
-- idempotent, so a database created by init.sql (no migration history) runs it as a no-op and is adopted.
-- Never edit an applied migration: add the next number (README, "Schema migrations").


-- Mail the notifier has sent: one row per (event, kind) makes "exactly once" checkable and enforceable.
CREATE TABLE IF NOT EXISTS sent_emails (
  event_id    uuid        NOT NULL,
  kind        text        NOT NULL,
  order_id    text,
  recipient   text        NOT NULL,
  subject     text        NOT NULL,
  message_id  text        NOT NULL,
  sent_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, kind)
);

-- Steps the process managers took (003's saga log), one row per step, idempotent by (saga_id, step).
-- Written by the worker (src/worker/saga-log.ts), never rebuilt: steps such as "the carrier's late answer was
-- ignored" are no event. created_at is when the step happened (the time of the events it is made of).
CREATE TABLE IF NOT EXISTS saga_log (
  saga_id     text        NOT NULL,
  saga_type   text        NOT NULL,
  step        text        NOT NULL,
  status      text        NOT NULL, -- completed | failed | skipped
  detail      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  event_id    uuid,       -- unused since event_ids; kept for databases that have it
  created_at  timestamptz NOT NULL DEFAULT now(),
  order_id    text,
  -- The events the step consists of (several streams: e.g. compensation = order events + StockReturned per line).
  event_ids   text[]      NOT NULL DEFAULT '{}',
  PRIMARY KEY (saga_id, step)
);

-- One row per saga: what GET /sagas lists and filters. status: running | completed | compensated | failed
-- (failed: a step keeps failing and is being retried; it can still finish). Once completed or compensated a
-- saga stays so, whatever arrives late.
CREATE TABLE IF NOT EXISTS sagas (
  saga_id    text        PRIMARY KEY,
  saga_type  text        NOT NULL, -- fulfilment | reservation_expiry
  order_id   text,
  status     text        NOT NULL,
  started_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sagas_recent ON sagas (started_at DESC, saga_id DESC);
CREATE INDEX IF NOT EXISTS sagas_order ON sagas (order_id);
CREATE INDEX IF NOT EXISTS sagas_status ON sagas (status, started_at DESC, saga_id DESC);

-- ─────────────────────────────────────────────────────────────────────────────────────────────────────────────
-- Read models built by the projector (src/projections). Conventions every table below follows:
--  * Every column is a function of the events alone (timestamps come from event data or created_at, never
--    now()), so a rebuild produces byte-identical tables and "read model equals a fresh rebuild" is testable.
--  * Tables named read_* are rebuildable: `npm run rebuild` truncates every read_* table plus
--    projection_streams and processed_events. Do not name a table read_* unless events alone can refill it.
--  * Money is integer yen; sums use bigint.
-- ─────────────────────────────────────────────────────────────────────────────────────────────────────────────

-- Japanese has no tsvector parser in PostgreSQL: substring search goes through trigram indexes instead.
-- pg_trgm ships with PostgreSQL (embedded-postgres and the postgres:16 image) and is a trusted extension.
-- It needs a UTF-8 ctype other than plain C (embedded: C.UTF-8; image: en_US.utf8) to treat kana/kanji as
-- word characters; under LC_CTYPE=C the search stays correct but the trigram index cannot help Japanese terms.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Exactly-once in effect (DESIGN.md §5): the version of every stream the read side has applied. The runner locks
-- the stream's row (FOR UPDATE) for the whole batch transaction, so two projector instances that briefly share
-- an aggregate after a rebalance serialise here: version <= stored is a duplicate, version > stored + 1 a gap.
-- Kept per stream, not per read row, because some events have no row (unknown types, streams no table shows)
-- and must still advance the position, and because one stream may feed several tables.
CREATE TABLE IF NOT EXISTS projection_streams (
  aggregate_id   text        PRIMARY KEY,
  aggregate_type text        NOT NULL,
  version        integer     NOT NULL CHECK (version >= 0),
  updated_at     timestamptz
);

-- Aggregating tables (marketing) add deltas, so re-applying an event would count it twice. Besides the stream
-- guard above, every event they consume is recorded here in the same transaction (insert-if-absent).
CREATE TABLE IF NOT EXISTS processed_events (
  event_id     uuid        NOT NULL,
  projection   text        NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, projection)
);

CREATE TABLE IF NOT EXISTS read_users (
  user_id       text        PRIMARY KEY,
  email         text        NOT NULL,
  name          text        NOT NULL,
  role          text        NOT NULL,
  registered_at timestamptz NOT NULL,
  version       integer     NOT NULL
  -- No password hash, deliberately: the write side owns authentication (it folds the User stream).
);
CREATE INDEX IF NOT EXISTS read_users_email ON read_users (email);

CREATE TABLE IF NOT EXISTS read_categories (
  category_id text        PRIMARY KEY,
  name        text        NOT NULL,
  created_at  timestamptz NOT NULL,
  version     integer     NOT NULL
);

-- Category name and stock are joined at query time (primary-key joins on read_categories / read_inventory)
-- instead of being copied here: a copy would be written by two different streams, which race under concurrent
-- projectors and turn every stock reservation into a second write on the product row.
CREATE TABLE IF NOT EXISTS read_products (
  product_id  text        PRIMARY KEY,
  name        text        NOT NULL,
  description text        NOT NULL DEFAULT '',
  price       integer     NOT NULL,
  category_id text,
  deleted     boolean     NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL,
  deleted_at  timestamptz,
  version     integer     NOT NULL,
  -- Both search columns are NFKC-normalised (full-width ＡＢＣ/１００ and half-width ｶﾀｶﾅ match what people
  -- type either way); queries normalise their terms the same way (src/platform/readmodel/search.ts).
  -- Word search ('simple': no stemming, no stop words; fine for English words, romaji and numbers).
  search      tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('simple', normalize(name, NFKC)), 'A')
                || setweight(to_tsvector('simple', normalize(description, NFKC)), 'B')
              ) STORED,
  -- Substring search for text without spaces ("Tシャツ" inside "綿100%のTシャツ"), served by the trigram index.
  search_text text GENERATED ALWAYS AS (lower(normalize(name || ' ' || description, NFKC))) STORED
);
CREATE INDEX IF NOT EXISTS read_products_search ON read_products USING gin (search);
CREATE INDEX IF NOT EXISTS read_products_search_trgm ON read_products USING gin (search_text gin_trgm_ops);
-- Keyset pagination (newest first) over the live catalogue, optionally per category.
CREATE INDEX IF NOT EXISTS read_products_listing ON read_products (created_at DESC, product_id DESC) WHERE NOT deleted;
CREATE INDEX IF NOT EXISTS read_products_category ON read_products (category_id, created_at DESC, product_id DESC) WHERE NOT deleted;

-- 000's inventory view. reserved_quantity is always the sum of reservations[].quantity.
CREATE TABLE IF NOT EXISTS read_inventory (
  product_id         text        PRIMARY KEY,
  total_quantity     integer     NOT NULL DEFAULT 0,
  reserved_quantity  integer     NOT NULL DEFAULT 0,
  available_quantity integer     GENERATED ALWAYS AS (total_quantity - reserved_quantity) STORED,
  -- [{reservation_id, order_id, quantity, expires_at}]
  reservations       jsonb       NOT NULL DEFAULT '[]'::jsonb,
  updated_at         timestamptz NOT NULL,
  version            integer     NOT NULL
);

CREATE TABLE IF NOT EXISTS read_carts (
  user_id    text        PRIMARY KEY,
  cart_id    text        NOT NULL,
  -- [{product_id, name, price, quantity, subtotal}] in the order the products were first added.
  items      jsonb       NOT NULL DEFAULT '[]'::jsonb,
  total      integer     NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL,
  version    integer     NOT NULL
);

CREATE TABLE IF NOT EXISTS read_orders (
  order_id           text        PRIMARY KEY,
  user_id            text        NOT NULL,
  user_email         text        NOT NULL,
  -- [{product_id, name, price, quantity, subtotal}]
  items              jsonb       NOT NULL,
  total              integer     NOT NULL,
  -- pending → paid → shipped → delivered; cancelled; shipment_failed
  status             text        NOT NULL,
  -- Why the order was cancelled or why its shipment failed.
  reason             text,
  cancelled_by       text,
  tracking_number    text,
  expires_at         timestamptz,
  placed_at          timestamptz NOT NULL,
  paid_at            timestamptz,
  shipped_at         timestamptz,
  delivered_at       timestamptz,
  cancelled_at       timestamptz,
  shipment_failed_at timestamptz,
  updated_at         timestamptz NOT NULL,
  version            integer     NOT NULL,
  -- OrderPaymentRefunded: a paid order cancelled before dispatch, or whose shipment failed, was refunded.
  refunded_amount    integer,
  refunded_at        timestamptz
);
CREATE INDEX IF NOT EXISTS read_orders_user ON read_orders (user_id, placed_at DESC, order_id DESC);
CREATE INDEX IF NOT EXISTS read_orders_status ON read_orders (status, placed_at DESC, order_id DESC);
CREATE INDEX IF NOT EXISTS read_orders_placed ON read_orders (placed_at DESC, order_id DESC);

-- The Shipment stream (`shipment-<order_id>`) has its own versions, so it gets its own row rather than columns
-- on read_orders (whose version is the Order stream's). getOrder joins it.
CREATE TABLE IF NOT EXISTS read_shipments (
  shipment_id     text        PRIMARY KEY,
  order_id        text        NOT NULL,
  status          text        NOT NULL, -- initiated | completed | failed | cancelled
  tracking_number text,
  reason          text,
  initiated_at    timestamptz,
  completed_at    timestamptz,
  failed_at       timestamptz,
  updated_at      timestamptz NOT NULL,
  version         integer     NOT NULL,
  carrier           text,        -- ShipmentRequested: the carrier it was handed to and its booking number
  carrier_reference text,
  requested_at      timestamptz,
  dispatched_by     text,        -- carrier | admin
  cancelled_at      timestamptz
);
CREATE INDEX IF NOT EXISTS read_shipments_order ON read_shipments (order_id);

-- Every event, for the UI's event log (DESIGN.md §3: no hot GSI on the event store; this table is the global
-- log). Secrets are removed before they land here (password_hash never leaves the write side).
CREATE TABLE IF NOT EXISTS read_event_log (
  event_id       uuid        PRIMARY KEY,
  aggregate_id   text        NOT NULL,
  aggregate_type text        NOT NULL,
  event_type     text        NOT NULL,
  version        integer     NOT NULL,
  data           jsonb       NOT NULL,
  metadata       jsonb       NOT NULL,
  created_at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS read_event_log_stream ON read_event_log (aggregate_id, version);
CREATE INDEX IF NOT EXISTS read_event_log_recent ON read_event_log (created_at DESC, event_id DESC);
CREATE INDEX IF NOT EXISTS read_event_log_type ON read_event_log (event_type, created_at DESC, event_id DESC);

-- Marketing read side (003). Revenue rule, shared with /orders/statistics: a sale counts when the order is
-- PAID (OrderPaid), on the UTC day of paid_at. An order cancelled or failing shipment after payment is
-- reversed on that same paid day, so every figure is "net sales of orders paid that day" and always equals
-- the sum of read_orders.total over status paid/shipped/delivered. Orders that are never paid count only in
-- order_count (placed orders).
CREATE TABLE IF NOT EXISTS read_customer_summary (
  user_id          text        PRIMARY KEY,
  email            text,
  name             text,
  order_count      integer     NOT NULL DEFAULT 0, -- orders placed
  paid_order_count integer     NOT NULL DEFAULT 0, -- orders paid and not reversed
  total_spent      bigint      NOT NULL DEFAULT 0, -- LTV: totals of those paid orders
  last_order_at    timestamptz
);
CREATE INDEX IF NOT EXISTS read_customer_summary_ltv ON read_customer_summary (total_spent DESC, user_id);

CREATE TABLE IF NOT EXISTS read_product_popularity (
  product_id  text    PRIMARY KEY,
  name        text    NOT NULL,
  units_sold  integer NOT NULL DEFAULT 0,
  revenue     bigint  NOT NULL DEFAULT 0,
  order_count integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS read_product_popularity_rank ON read_product_popularity (units_sold DESC, revenue DESC, product_id);

CREATE TABLE IF NOT EXISTS read_daily_sales (
  day         date    PRIMARY KEY, -- UTC
  order_count integer NOT NULL DEFAULT 0,
  revenue     bigint  NOT NULL DEFAULT 0
);

-- ─────────────────────────────────────────────────────────────────────────────────────────────────────────────
-- Upgrades of databases created before the fulfilment saga: the columns above, added only where missing
-- (a plain ADD COLUMN IF NOT EXISTS would take an exclusive lock on every process start).
DO $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT * FROM (VALUES
      ('saga_log', 'order_id', 'text'),
      ('saga_log', 'event_ids', 'text[] NOT NULL DEFAULT ''{}'''),
      ('read_orders', 'refunded_amount', 'integer'),
      ('read_orders', 'refunded_at', 'timestamptz'),
      ('read_shipments', 'carrier', 'text'),
      ('read_shipments', 'carrier_reference', 'text'),
      ('read_shipments', 'requested_at', 'timestamptz'),
      ('read_shipments', 'dispatched_by', 'text'),
      ('read_shipments', 'cancelled_at', 'timestamptz')
    ) AS t(tab, col, def)
  LOOP
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                    WHERE table_schema = current_schema() AND table_name = c.tab AND column_name = c.col) THEN
      EXECUTE format('ALTER TABLE %I ADD COLUMN %I %s', c.tab, c.col, c.def);
    END IF;
  END LOOP;
END $$;

-- ── src/worker/schema.sql as of the baseline ──
-- The worker's durable timers (src/contexts/orders/expiry.ts). Idempotent, like init.sql, which it is meant to join.
--
-- order_deadlines is a timer index only, never a source of truth: a row means "ask the event store about this
-- order at expires_at". The expiry command decides from the order's stream, so a stale, early or duplicate row
-- costs one no-op command. Rows are not derived from events alone (attempts, next_attempt_at), which is why
-- the table is not named read_* and a read-model rebuild leaves it alone.
CREATE TABLE IF NOT EXISTS order_deadlines (
  order_id        text        PRIMARY KEY,
  expires_at      timestamptz NOT NULL,
  -- Failed expiry attempts so far; the retry backoff and the "stuck timer" alert are driven by it.
  attempts        int         NOT NULL DEFAULT 0,
  -- NULL until an attempt failed; a due row is skipped until then.
  next_attempt_at timestamptz,
  -- The last failure, so an operator can see why a timer is stuck without digging through logs.
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS order_deadlines_expires_at ON order_deadlines (expires_at);

-- The fulfilment saga's durable timers (src/contexts/shipping/fulfilment-worker.ts), one row per order whose saga waits for
-- something: `request` — hand the shipment to the carrier (armed by OrderPaid, due at once); `answer` — ask
-- the carrier for its answer (due when the carrier said it would have one). Like order_deadlines a row only
-- means "look at this order then": every step decides from the event store, so a stale or duplicate row costs
-- a no-op. A restart resumes from here; several workers share the rows through FOR UPDATE SKIP LOCKED.
CREATE TABLE IF NOT EXISTS shipment_timers (
  order_id          text        PRIMARY KEY,
  action            text        NOT NULL CHECK (action IN ('request', 'answer')),
  due_at            timestamptz NOT NULL,
  -- The carrier's booking, once made (action 'answer').
  carrier           text,
  carrier_reference text,
  attempts          int         NOT NULL DEFAULT 0,
  next_attempt_at   timestamptz,
  last_error        text,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS shipment_timers_due ON shipment_timers (due_at);

-- The simulated carrier's own books (src/contexts/shipping/carrier-adapter.ts): what a real carrier keeps on its side. It decides
-- a parcel's fate when it accepts it (SHIPMENT_FAILURE_RATE) and answers it after SHIPMENT_DELAY_MS, the
-- same answer however often it is asked, whichever worker asks.
CREATE TABLE IF NOT EXISTS simulated_carrier_parcels (
  shipment_id     text        PRIMARY KEY,
  reference       text        NOT NULL UNIQUE,
  order_id        text        NOT NULL,
  outcome         text        NOT NULL CHECK (outcome IN ('dispatched', 'failed')),
  tracking_number text        NOT NULL,
  failure_reason  text,
  booked_at       timestamptz NOT NULL,
  answer_at       timestamptz NOT NULL,
  cancelled_at    timestamptz
);

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

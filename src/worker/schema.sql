-- The worker's durable timers (src/worker/expiry.ts). Idempotent, like init.sql, which it is meant to join.
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

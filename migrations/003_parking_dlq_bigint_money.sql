-- Up Migration
-- 003 (issue 10, the batched projector): parking of poison streams, dead-letter resolutions, processed_events
-- pruning, money in bigint.

-- Operations (public, not read_model: a rebuild never touches them). A stream whose event fails to project for
-- a reason that is not transient is parked (src/projections/parking.ts): the stream, its error and every event
-- of it that arrived since are kept here, other streams go on, and POST /ops/parked/{aggregate_id}/retry
-- applies the held-back events after a fix and unparks the stream in one transaction.
CREATE TABLE IF NOT EXISTS public.parked_streams (
  aggregate_id text        PRIMARY KEY,
  error        text        NOT NULL,
  -- The event the error was met at (the stream's first unapplied version).
  event_id     text,
  event_type   text,
  version      integer,
  attempts     integer     NOT NULL DEFAULT 1,
  parked_at    timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
-- What was done with each record of the dead-letter topic (Kafka cannot delete one): id = <partition>:<offset>.
CREATE TABLE IF NOT EXISTS public.dead_letter_resolutions (
  id     text        PRIMARY KEY,
  action text        NOT NULL, -- replayed | discarded
  at     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS public.parked_events (
  aggregate_id text        NOT NULL,
  version      integer     NOT NULL,
  event        jsonb       NOT NULL,
  held_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (aggregate_id, version)
);

-- Pruning by age (src/platform/projections/pruning.ts).
CREATE INDEX IF NOT EXISTS processed_events_age ON read_model.processed_events (processed_at);

-- Money columns that were integer before totals could pass 2^31 yen (a cart of 99 × three 10,000,000-yen
-- products). The ALTER rewrites the tables once, here.
ALTER TABLE read_model.read_carts ALTER COLUMN total TYPE bigint;
ALTER TABLE read_model.read_orders ALTER COLUMN total TYPE bigint, ALTER COLUMN refunded_amount TYPE bigint;

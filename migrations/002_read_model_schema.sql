-- Up Migration
-- 002: the projection family's tables move into a schema of their own, `read_model`, so a rebuild can build a
-- complete new copy beside them (schema read_rebuild_<id>) and switch to it in one transaction (blue/green,
-- src/projections/rebuild.ts). Family = every read_* table plus the projector's bookkeeping
-- (projection_streams, processed_events): events alone refill them. Everything else — sent_emails, saga_log,
-- sagas, the worker's timers, the simulated carrier, ops tables — stays in public and no rebuild touches it.
-- Queries name tables unqualified; the database's search_path (read_model, public) resolves them, and every
-- pool the processes open sets the same search_path (src/infra.ts).
CREATE SCHEMA IF NOT EXISTS read_model;

DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables
            WHERE schemaname = 'public'
              AND (tablename LIKE 'read\_%' OR tablename IN ('projection_streams', 'processed_events'))
  LOOP
    EXECUTE format('ALTER TABLE public.%I SET SCHEMA read_model', t.tablename);
  END LOOP;
  -- New sessions of any client (tools, psql, tests' own pools) resolve the read tables too.
  EXECUTE format('ALTER DATABASE %I SET search_path = read_model, public', current_database());
END $$;

-- Progress of read-model rebuilds (`npm run rebuild`, GET /ops/rebuilds). Operations bookkeeping, not derived
-- from events: lives in public, never rebuilt. heartbeat_at moves while the rebuild runs; a `running` row whose
-- heartbeat stopped is a rebuild that was killed (the next rebuild marks it `abandoned` and drops its schema).
CREATE TABLE IF NOT EXISTS public.ops_rebuilds (
  rebuild_id    text        PRIMARY KEY,
  projection    text        NOT NULL, -- all | users | catalog | … (src/projections/families.ts)
  status        text        NOT NULL CHECK (status IN ('running', 'catching_up', 'switched', 'failed', 'abandoned')),
  schema_name   text        NOT NULL,
  events_done   bigint      NOT NULL DEFAULT 0,
  events_total  bigint,                -- estimate (DynamoDB's item count, refreshed about every 6 hours)
  events_per_second integer,
  error         text,
  started_at    timestamptz NOT NULL DEFAULT now(),
  heartbeat_at  timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
);
CREATE INDEX IF NOT EXISTS ops_rebuilds_recent ON public.ops_rebuilds (started_at DESC);

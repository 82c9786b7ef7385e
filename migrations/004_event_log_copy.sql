-- Up Migration
-- 004 (issue 10, projector speed): the event log is the one read table written a row per event, so its write was
-- the projector's largest statement. The batch now goes in with one COPY (src/projections/event-log.ts), and:
--  * data and metadata become json: nothing queries inside them (the API returns them whole), and json is
--    stored as written, where jsonb parses and re-encodes every payload on the way in;
--  * the row's identity is its stream position, (aggregate_id, version), as everywhere on the read side: that
--    primary key replaces both the event_id primary key and the plain stream index, one index fewer to
--    maintain per event (a random uuid, at that). A primary key rather than a bare unique index, because a
--    rebuild's copy of the schema carries constraints over before its load (src/projections/rebuild.ts).
ALTER TABLE read_model.read_event_log ALTER COLUMN data TYPE json, ALTER COLUMN metadata TYPE json;
ALTER TABLE read_model.read_event_log DROP CONSTRAINT read_event_log_pkey;
DROP INDEX IF EXISTS read_model.read_event_log_stream;
ALTER TABLE read_model.read_event_log ADD CONSTRAINT read_event_log_pkey PRIMARY KEY (aggregate_id, version);

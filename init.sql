-- EC Shop read side (PostgreSQL). Every statement is idempotent: docker compose runs this file once through
-- the postgres image, and every process applies it again at startup (src/readmodel/schema.ts).

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
CREATE TABLE IF NOT EXISTS saga_log (
  saga_id     text        NOT NULL,
  saga_type   text        NOT NULL,
  step        text        NOT NULL,
  status      text        NOT NULL,
  detail      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  event_id    uuid,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (saga_id, step)
);

#!/bin/sh
# Creates the event store's DynamoDB tables (DESIGN.md §3) with the AWS CLI (v1 or v2). Idempotent: existing
# tables are left alone, so it can run on every `docker compose up` and by hand. The processes create the same
# layout at startup (src/eventstore/tables.ts): keep the two in step.
#
#   DYNAMODB_ENDPOINT   default http://localhost:8000
#   DYNAMODB_TABLE_EVENTS / _SNAPSHOTS / _IDEMPOTENCY / _AUTH   default events / event_snapshots / idempotency_keys / auth
#   DYNAMODB_WAIT_SECONDS   how long to wait for the endpoint to answer (default 60)
#
# POSIX sh on purpose: the amazon/aws-cli image and slim images have no bash guarantees.
set -eu

ENDPOINT="${DYNAMODB_ENDPOINT:-http://localhost:8000}"
EVENTS="${DYNAMODB_TABLE_EVENTS:-events}"
SNAPSHOTS="${DYNAMODB_TABLE_SNAPSHOTS:-event_snapshots}"
IDEMPOTENCY="${DYNAMODB_TABLE_IDEMPOTENCY:-idempotency_keys}"
AUTH="${DYNAMODB_TABLE_AUTH:-auth}"
WAIT_SECONDS="${DYNAMODB_WAIT_SECONDS:-60}"

# DynamoDB Local accepts any credentials, but the CLI will not send a request without some.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
export AWS_DEFAULT_REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-ap-northeast-1}}"
# CLI v2 pipes output through a pager when run from a terminal.
export AWS_PAGER=""

ddb() { aws dynamodb --endpoint-url "$ENDPOINT" --output text "$@"; }

echo "init-dynamodb: waiting for $ENDPOINT (up to ${WAIT_SECONDS}s)"
deadline=$(($(date +%s) + WAIT_SECONDS))
# One quick attempt per probe: the CLI's own retries and 60 s connect timeout would overshoot the deadline.
until AWS_MAX_ATTEMPTS=1 ddb list-tables --max-items 1 --cli-connect-timeout 2 --cli-read-timeout 5 >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "init-dynamodb: $ENDPOINT did not answer within ${WAIT_SECONDS}s" >&2
    exit 1
  fi
  sleep 1
done

# create_table NAME ARGS…: skips an existing table; losing a creation race to another runner is fine too.
create_table() {
  name="$1"
  shift
  if ddb describe-table --table-name "$name" >/dev/null 2>&1; then
    echo "init-dynamodb: table $name exists, skipped"
  else
    if ! err=$(ddb create-table --table-name "$name" --billing-mode PAY_PER_REQUEST "$@" 2>&1 >/dev/null); then
      case "$err" in
        *ResourceInUseException*) echo "init-dynamodb: table $name is being created by someone else" ;;
        *) echo "$err" >&2; exit 1 ;;
      esac
    else
      echo "init-dynamodb: table $name created"
    fi
  fi
  ddb wait table-exists --table-name "$name"
}

# Events: one item per event, (aggregate_id, version). The sparse `outbox` index holds only unpublished events;
# its partition key is a shard number ("0".."7" by default), never one constant key for every event.
create_table "$EVENTS" \
  --attribute-definitions \
    AttributeName=aggregate_id,AttributeType=S AttributeName=version,AttributeType=N \
    AttributeName=outbox_shard,AttributeType=S AttributeName=outbox_at,AttributeType=S \
  --key-schema AttributeName=aggregate_id,KeyType=HASH AttributeName=version,KeyType=RANGE \
  --global-secondary-indexes '[{"IndexName":"outbox","KeySchema":[{"AttributeName":"outbox_shard","KeyType":"HASH"},{"AttributeName":"outbox_at","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}]'

create_table "$SNAPSHOTS" \
  --attribute-definitions AttributeName=aggregate_id,AttributeType=S \
  --key-schema AttributeName=aggregate_id,KeyType=HASH

create_table "$IDEMPOTENCY" \
  --attribute-definitions AttributeName=key,AttributeType=S \
  --key-schema AttributeName=key,KeyType=HASH

# What must never be an event: password hashes (pk credential#<user_id>) and refresh-token families
# (pk session#<family_id>, the only items with expires_at).
create_table "$AUTH" \
  --attribute-definitions AttributeName=pk,AttributeType=S \
  --key-schema AttributeName=pk,KeyType=HASH

# Idempotency records expire after 24 h, sessions when their refresh token does (the stores ignore expired
# items; TTL only reclaims the space).
for table in "$IDEMPOTENCY" "$AUTH"; do
  if ! err=$(ddb update-time-to-live --table-name "$table" \
    --time-to-live-specification Enabled=true,AttributeName=expires_at 2>&1 >/dev/null); then
    case "$err" in
      *"already enabled"*) ;;
      *) echo "$err" >&2; exit 1 ;;
    esac
  fi
  echo "init-dynamodb: TTL on $table.expires_at enabled"
done
echo "init-dynamodb: done"

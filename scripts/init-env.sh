#!/usr/bin/env bash
# `make up`, first step: creates .env from .env.example with a random value for every secret the example leaves
# empty, once. An existing .env is never changed; if it lacks a secret, this says which and stops (docker
# compose would refuse to start anyway). Usage: scripts/init-env.sh [directory holding .env.example]
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

SECRETS=(JWT_SECRET ADMIN_PASSWORD POSTGRES_PASSWORD KAFKA_UI_PASSWORD MAILPIT_UI_PASSWORD)
# Letters and digits only: the values go into a URL (DATABASE_URL), a "user:password" pair (Mailpit) and
# login forms, none of which need quoting then.
random() { LC_ALL=C tr -dc 'A-Za-z0-9' < <(head -c 4096 /dev/urandom) | cut -c "1-$1"; }

if [ -f .env ]; then
  missing=()
  for name in "${SECRETS[@]}"; do grep -Eq "^${name}=.+" .env || missing+=("$name"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "make up: .env exists but has no value for: ${missing[*]}" >&2
    echo "  add a line per name, e.g. ${missing[0]}=$(random 32)   (or move .env away and run make up again to generate a new one)" >&2
    exit 1
  fi
  echo "make up: using the existing .env (its secrets: grep -E '^($(IFS='|'; echo "${SECRETS[*]}"))=' .env)"
  exit 0
fi

umask 077
tmp=$(mktemp .env.XXXXXX)
trap 'rm -f "$tmp"' EXIT
admin_email=admin@example.com
while IFS= read -r line || [ -n "$line" ]; do
  name=${line%%=*}
  case "$line" in
    JWT_SECRET=) line="JWT_SECRET=$(random 64)" ;;
    ADMIN_PASSWORD= | POSTGRES_PASSWORD= | KAFKA_UI_PASSWORD= | MAILPIT_UI_PASSWORD=) line="${name}=$(random 24)" ;;
    ADMIN_EMAIL=*) admin_email=${line#ADMIN_EMAIL=} ;;
  esac
  printf '%s\n' "$line"
done < .env.example > "$tmp"
for name in "${SECRETS[@]}"; do
  grep -Eq "^${name}=[A-Za-z0-9]{24,}$" "$tmp" || { echo "make up: .env.example has no empty ${name}= line to fill" >&2; exit 1; }
done
chmod 600 "$tmp"
mv "$tmp" .env
trap - EXIT
echo "make up: wrote .env (mode 600, git-ignored) with generated ${SECRETS[*]}"
echo "  admin login for the shop: ${admin_email} / the ADMIN_PASSWORD line of .env (grep ^ADMIN_PASSWORD= .env)"
echo "  Kafka UI and Mailpit: user admin / KAFKA_UI_PASSWORD and MAILPIT_UI_PASSWORD in .env"

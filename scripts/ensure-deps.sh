#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for `make dev` and `make test`, and nothing it already has:
# npm dependencies (when node_modules is missing or older than the lockfile), Java ≥ 17 with its compiler module
# for DynamoDB Local (src/devstack/DynamoDbLoopback.java binds it to 127.0.0.1 and runs as a source file), kcat
# for the broker tests, Chromium and Japanese fonts for the browser tests. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
java_ok() { command -v java >/dev/null 2>&1 && java -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); exit !(v[1] >= 17) }'; }
java_ok || need_apt+=(openjdk-17-jdk-headless)
# A JRE alone cannot run a Java source file; the JDK package adds the compiler module to the same java.
java_ok && ! java --list-modules 2>/dev/null | grep -q '^jdk\.compiler@' && need_apt+=(openjdk-17-jdk-headless)
command -v kcat >/dev/null 2>&1 || need_apt+=(kcat)
# playwright-core drives Debian's Chromium (never a downloaded browser); screenshots need CJK glyphs.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q 'install ok installed' || need_apt+=(fonts-noto-cjk)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm dependencies (npm ci)"
  npm ci --no-fund --no-audit --loglevel=error
fi

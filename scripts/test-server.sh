#!/usr/bin/env bash
# Runs the tests that need a real ClickHouse server, which `cargo test` leaves out (ignored):
# the server store's round trip — every migration, exactly-once inserts, the panels from the
# views against those from raw events — in a throwaway database that it creates and drops.
#
#   scripts/test-server.sh URL [USER] [PASSWORD]
#   scripts/test-server.sh http://localhost:8123
#   PULSEBOARD_TEST_CLICKHOUSE_PASSWORD=… scripts/test-server.sh https://ch.example.com:8443 analytics
#
# USER defaults to the URL's (http://user:pass@host:8123), else `default`. The password may
# come from PULSEBOARD_TEST_CLICKHOUSE_PASSWORD instead of the command line (which keeps it out
# of the shell history). The user must be allowed to create and drop a database (the test uses
# pulseboard_test_<random>). Fails, never skips, when the server cannot be reached or when no
# real-server test ran.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ] || [ $# -gt 3 ]; then
  echo "usage: scripts/test-server.sh URL [USER] [PASSWORD]   (e.g. http://localhost:8123)" >&2
  exit 2
fi
export PULSEBOARD_TEST_CLICKHOUSE_URL="$1"
if [ $# -ge 2 ]; then
  export PULSEBOARD_TEST_CLICKHOUSE_USER="$2"
fi
if [ $# -ge 3 ]; then
  export PULSEBOARD_TEST_CLICKHOUSE_PASSWORD="$3"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --features fault-injection --lib -- --ignored real_server 2>&1 | tee "$log"
# A renamed or deleted test would otherwise "pass" with nothing run.
if ! grep -Eq '^test result: ok\. [1-9][0-9]* passed' "$log"; then
  echo "test-server.sh: no real-server test ran" >&2
  exit 1
fi

#!/usr/bin/env bash
# Runs every test. Installs whatever is missing first (scripts/setup.sh), so it works on a fresh
# machine. The integration tests start the real `pulseboard serve` with real chDB and SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --features fault-injection -- -D warnings

echo "== tests"
# The keychain tests need a real Secret Service: a private D-Bus session with gnome-keyring,
# its login keyring unlocked with a throwaway password.
exec dbus-run-session -- sh -c '
  echo -n pulseboard-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec cargo test --features fault-injection'


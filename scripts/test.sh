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
cargo test --features fault-injection

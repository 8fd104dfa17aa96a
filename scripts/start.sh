#!/usr/bin/env bash
# Starts Pulseboard. Installs whatever is missing first (scripts/setup.sh), builds in release
# mode, then runs `pulseboard serve` with any flags you pass (see `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cargo build --release --quiet
exec ./target/release/pulseboard serve "$@"

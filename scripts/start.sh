#!/usr/bin/env bash
# Starts Pulseboard's dashboard window. Installs whatever is missing first (scripts/setup.sh),
# builds in release mode, then runs `pulseboard` with any flags you pass (see `--help`; pass
# `serve` for the headless engine).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cargo build --release --quiet
exec ./target/release/pulseboard "$@"

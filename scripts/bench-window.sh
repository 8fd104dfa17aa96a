#!/usr/bin/env bash
# Measures the window's targets (docs/BENCHMARKS.md): loads N events (default 1M) into a scratch
# data dir with the release build's bulk loader, then launches the release app on it under Xvfb
# through tauri-driver and prints time to data, event-to-screen latency, idle CPU and RSS.
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=${1:-1000000}
bash scripts/setup.sh --tests
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --quiet
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT
./target/release/pulseboard bench --data-dir "$DATA" --events 0 --latency-samples 0 \
  --panel-sizes "$EVENTS" --runs 1 >/dev/null
export PULSEBOARD_APP_BIN=$PWD/target/release/pulseboard PULSEBOARD_BENCH_DATA_DIR=$DATA
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
  cargo test --features fault-injection --test window bench_window -- --ignored --nocapture 2>&1 |
  grep -E "launch to data|event-to-screen|idle|test result"

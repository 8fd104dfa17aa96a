#!/usr/bin/env bash
# The long fuzz run (tests/fuzz.rs) in the release profile: CASES inputs per property
# (default 200000; 6 properties, so 1.2 million in all). Prints the inputs per property, the
# total, the failures (panics or broken invariants) and the time taken.
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${1:-200000}
log=${CARGO_TARGET_DIR:-target}/fuzz.log
cargo test --release --features fault-injection --test fuzz --no-run --quiet
start=$(date +%s)
set +e
PULSEBOARD_FUZZ_CASES=$CASES cargo test --release --features fault-injection --test fuzz --quiet \
    -- --nocapture --test-threads 2 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
secs=$(( $(date +%s) - start ))
# (The quiet test output may put progress dots before a line.)
inputs=$(sed -nE 's/.*fuzz [^:]*: ([0-9]+) inputs.*/\1/p' "$log" | awk '{ n += $1 } END { print n + 0 }')
failed=$(grep -c "panicked at" "$log" || true)
echo "fuzz: ${inputs:-0} inputs in ${secs} s, ${failed} failing properties (panics or broken invariants)"
exit "$status"

#!/usr/bin/env bash
# Runs every test. Installs whatever is missing first (scripts/setup.sh), so it works on a fresh
# machine. The integration tests start the real `pulseboard serve` with real chDB and SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --tests

echo "== format, lints and import cycles"
cargo fmt --all -- --check
cargo clippy --all-targets --features fault-injection -- -D warnings
python3 scripts/check-cycles.py src-tauri

echo "== packages"
# The .deb and .rpm a user installs (a release build); tests/package.rs checks what it finds.
bash scripts/package.sh

echo "== tests"
# The keychain tests need a real Secret Service: a private D-Bus session with gnome-keyring,
# its login keyring unlocked with a throwaway password. The window tests need a display (Xvfb)
# and that same D-Bus session (the single-instance plugin).
export PATH="$HOME/.cargo/bin:$PATH"
exec xvfb-run -a -s "-screen 0 1920x1080x24" dbus-run-session -- sh -c '
  echo -n pulseboard-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec cargo test --features fault-injection'


#!/usr/bin/env bash
# Installs what Pulseboard needs and is missing: Debian packages and libchdb (the embedded
# ClickHouse engine, ~560 MB, fetched once from the npm registry into a cache outside the repo);
# with --tests also what the tests drive: tauri-driver, Python requests, and the real Segment and
# PostHog SDKs (into the same cache). Safe to run again: it only installs what is missing.
set -euo pipefail

LIBCHDB_VERSION=26.5.3
LIBCHDB_PACKAGE="@chdb/lib-linux-x64-gnu@${LIBCHDB_VERSION}"
LIBCHDB_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/pulseboard/libchdb/${LIBCHDB_VERSION}"

# Packages to build the app and run its tests (window and keychain tests included; dunst is the
# notification service the window test's alert notification goes to; the package tests check the
# .deb's desktop entry, the .rpm's metadata and the window's class).
PACKAGES=(build-essential pkg-config curl ca-certificates npm libdbus-1-dev dbus gnome-keyring
  libwebkit2gtk-4.1-dev xvfb xauth webkit2gtk-driver dunst desktop-file-utils rpm x11-utils)
TAURI_DRIVER_VERSION=2.1.0

# The real SDKs the integration tests drive (tests/it/sdks.rs looks in PULSEBOARD_SDK_PY /
# PULSEBOARD_SDK_NODE when set, a directory of your own that this script leaves alone, else here).
SDK_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/pulseboard"
SDK_PY_PACKAGES=(segment-analytics-python==2.4.0 posthog==7.91.1 clickhouse-connect==1.12.0)
SDK_NODE_PACKAGES=(@segment/analytics-node@3.1.0 posthog-node@5.70.0 @clickhouse/client@1.23.1)

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    # Node's own npm (not Debian's) is fine too.
    [ "$p" = npm ] && command -v npm >/dev/null 2>&1 && continue
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_libchdb() {
  [ -f "$LIBCHDB_DIR/libchdb.so" ] && return
  say "fetching libchdb ${LIBCHDB_VERSION} (~170 MB download, ~560 MB unpacked) into $LIBCHDB_DIR"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$LIBCHDB_PACKAGE" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/libchdb.so
  mkdir -p "$LIBCHDB_DIR"
  mv "$tmp/package/libchdb.so" "$LIBCHDB_DIR/libchdb.so.part"
  mv "$LIBCHDB_DIR/libchdb.so.part" "$LIBCHDB_DIR/libchdb.so"
  rm -rf "$tmp"
}

check_rust() {
  command -v cargo >/dev/null 2>&1 && return
  say "cargo is missing: install Rust with rustup (https://rustup.rs), then run this again"
  exit 1
}

# The WebDriver bridge the window tests drive the app through; built once into ~/.cargo/bin.
install_tauri_driver() {
  # tauri-driver has no --version flag (it prints its usage); cargo's own list knows what it installed.
  cargo install --list 2>/dev/null | grep -qx "tauri-driver v${TAURI_DRIVER_VERSION}:" && return
  say "installing tauri-driver ${TAURI_DRIVER_VERSION} (cargo install, ~2 min)"
  cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" --locked --quiet
}

# The tests speak to the server as Python clients do (`requests`), like the SDKs people use.
install_python_requests() {
  python3 -c 'import requests' 2>/dev/null && return
  say "installing Python requests (for the tests)"
  python3 -m pip install --quiet requests 2>/dev/null ||
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-requests >/dev/null
}

# Installs `packages` into `dir` with `installer` (a function taking a directory and the
# packages), once: the list is recorded in `dir/.installed` last, so an interrupted or older
# install is redone from scratch and a complete one is left alone.
install_sdks_into() {
  local dir=$1 installer=$2
  shift 2
  local wanted="$*"
  [ "$(cat "$dir/.installed" 2>/dev/null)" = "$wanted" ] && return
  say "installing the SDKs the tests drive ($wanted) into $dir"
  rm -rf "$dir.part"
  mkdir -p "$dir.part"
  "$installer" "$dir.part" "$@"
  printf '%s\n' "$wanted" >"$dir.part/.installed"
  rm -rf "$dir"
  mv "$dir.part" "$dir"
}

pip_into() {
  local dir=$1
  shift
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
    --target "$dir" "$@"
}

npm_into() {
  local dir=$1
  shift
  npm install --prefix "$dir" --silent --no-audit --no-fund --save-exact "$@" >/dev/null
}

install_sdks() {
  [ -n "${PULSEBOARD_SDK_PY:-}" ] ||
    install_sdks_into "$SDK_CACHE/sdk-py" pip_into "${SDK_PY_PACKAGES[@]}"
  [ -n "${PULSEBOARD_SDK_NODE:-}" ] ||
    install_sdks_into "$SDK_CACHE/sdk-node" npm_into "${SDK_NODE_PACKAGES[@]}"
}

install_packages
install_libchdb
check_rust
# Only the tests need these: `scripts/test.sh` passes --tests.
if [ "${1:-}" = --tests ]; then
  install_tauri_driver
  install_python_requests
  install_sdks
fi
say "ready: libchdb at $LIBCHDB_DIR/libchdb.so"

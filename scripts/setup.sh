#!/usr/bin/env bash
# Installs what Pulseboard needs and is missing: Debian packages and libchdb (the embedded
# ClickHouse engine, ~560 MB, fetched once from the npm registry into a cache outside the repo).
# Safe to run again: it only installs what is missing.
set -euo pipefail

LIBCHDB_VERSION=26.5.3
LIBCHDB_PACKAGE="@chdb/lib-linux-x64-gnu@${LIBCHDB_VERSION}"
LIBCHDB_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/pulseboard/libchdb/${LIBCHDB_VERSION}"

# Packages to build the app and run its tests (window and keychain tests included).
PACKAGES=(build-essential pkg-config curl ca-certificates npm libdbus-1-dev dbus gnome-keyring
  libwebkit2gtk-4.1-dev xvfb xauth webkit2gtk-driver)
TAURI_DRIVER_VERSION=2.1.0

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

install_packages
install_libchdb
check_rust
# Only the tests need these: `scripts/test.sh` passes --tests.
if [ "${1:-}" = --tests ]; then
  install_tauri_driver
  install_python_requests
fi
say "ready: libchdb at $LIBCHDB_DIR/libchdb.so"

#!/usr/bin/env bash
# Builds the Linux packages, a .deb and an .rpm, with Tauri's bundler from tauri.conf.json (a
# release build; version from Cargo.toml). The bundler CLI (npm @tauri-apps/cli, a prebuilt
# binary) is installed once into ~/.cache/pulseboard/tauri-cli. The packages hold no libchdb:
# the app fetches it on first start (`pulseboard engine install`).
# AppImage is not built: its bundler downloads linuxdeploy from GitHub at build time.
# Extra arguments go to `tauri build` (e.g. --verbose).
set -euo pipefail
cd "$(dirname "$0")/.."

TAURI_CLI_VERSION=2.12.5
CLI_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/pulseboard/tauri-cli"
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

say() { printf '\033[1m[package]\033[0m %s\n' "$*" >&2; }

# Recorded last in .installed, so an interrupted install is redone and a complete one kept.
install_cli() {
  [ "$(cat "$CLI_DIR/.installed" 2>/dev/null)" = "$TAURI_CLI_VERSION" ] && return
  say "installing the Tauri bundler CLI ${TAURI_CLI_VERSION} (npm @tauri-apps/cli) into $CLI_DIR"
  rm -rf "$CLI_DIR.part"
  mkdir -p "$CLI_DIR.part"
  npm install --prefix "$CLI_DIR.part" --silent --no-audit --no-fund --save-exact \
    "@tauri-apps/cli@${TAURI_CLI_VERSION}" >/dev/null
  printf '%s\n' "$TAURI_CLI_VERSION" >"$CLI_DIR.part/.installed"
  rm -rf "$CLI_DIR"
  mv "$CLI_DIR.part" "$CLI_DIR"
}

bash scripts/setup.sh
install_cli
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
tauri="$CLI_DIR/node_modules/.bin/tauri"
say "building Pulseboard ${version} (release) and bundling .deb and .rpm"
"$tauri" build --ci --no-bundle "$@"
# The release profile keeps line tables (backtraces, profiling), which make the binary ~170 MB
# instead of ~25 MB; the bundler packs the binary as it finds it, so it gets a stripped one.
# The stripped copy replaces cargo's hard link, so cargo's own file under deps/ keeps them.
binary="$TARGET_DIR/release/pulseboard"
strip -o "$binary.stripped" "$binary"
mv "$binary.stripped" "$binary"
"$tauri" bundle --ci --bundles deb,rpm "$@"

deb="$TARGET_DIR/release/bundle/deb/Pulseboard_${version}_amd64.deb"
rpm="$TARGET_DIR/release/bundle/rpm/Pulseboard-${version}-1.x86_64.rpm"
for file in "$deb" "$rpm"; do
  [ -f "$file" ] || { say "expected $file, but the bundler did not write it"; exit 1; }
  say "$(du -h "$file" | cut -f1)  $file"
done

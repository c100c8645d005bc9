#!/bin/sh
# A platform .vsix with the server inside (as ruff's and rust-analyzer's extensions ship):
#   sh package-bundled.sh TARGET BINARY [OUT]
# copies BINARY (a jellycell-lsp built for TARGET) to server/jellycell-lsp (.exe for
# win32-*), runs `vsce package --target TARGET`, and removes the copy. The extension starts
# the bundled server unless `jellycell.server.path` is set (src/server.ts).
#
# TARGET and the Rust target whose `cargo build --release` (or wheel) gives BINARY:
#   linux-x64     x86_64-unknown-linux-gnu      linux-arm64   aarch64-unknown-linux-gnu
#   alpine-x64    x86_64-unknown-linux-musl     alpine-arm64  aarch64-unknown-linux-musl
#   darwin-x64    x86_64-apple-darwin           darwin-arm64  aarch64-apple-darwin
#   win32-x64     x86_64-pc-windows-msvc        win32-arm64   aarch64-pc-windows-msvc
set -eu
[ $# -ge 2 ] || { echo "usage: sh package-bundled.sh TARGET BINARY [OUT]" >&2; exit 2; }
target=$1
[ -f "$2" ] || { echo "package-bundled.sh: no binary at $2" >&2; exit 1; }
binary="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
out=${3:-jellycell-lsp-$target.vsix}
case "$out" in
  /*) ;;
  *) out="$PWD/$out" ;;
esac
cd "$(dirname "$0")"
case "$target" in
  win32-*) name=jellycell-lsp.exe ;;
  *) name=jellycell-lsp ;;
esac
rm -rf server
mkdir server
trap 'rm -rf server' EXIT
cp "$binary" "server/$name"
chmod 755 "server/$name"
npx --no-install vsce package --no-dependencies --target "$target" --out "$out"

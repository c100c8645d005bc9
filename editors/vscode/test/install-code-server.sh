#!/usr/bin/env bash
# Installs a real VS Code (code-server 4.100.3 = VS Code 1.100.3, the newest that runs on
# Node 20) from the npm registry into PREFIX, for tests/vscode.rs. Idempotent: does nothing
# when PREFIX already holds that version. Recipe and the three traps it works around:
# /work/shared/clients.md §3.1 (kerberos needs gssapi headers; @vscode/ripgrep downloads rg
# from GitHub unless its cache holds a tarball; node-pty's postinstall runs `npx node-gyp`).
# usage: install-code-server.sh PREFIX        (run as root on Debian: it may apt-get install)
set -euo pipefail
PREFIX=${1:?usage: install-code-server.sh PREFIX}
VERSION=4.100.3
RIPGREP_PACKAGE_VERSION=1.15.11 # pinned by code-server 4.100.3's lib/vscode/npm-shrinkwrap.json

mkdir -p "$PREFIX"
PREFIX=$(cd "$PREFIX" && pwd)
BIN="$PREFIX/node_modules/.bin/code-server"
if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "^$VERSION "; then
  echo "code-server $VERSION already in $PREFIX"
  exit 0
fi

# Native-module build dependencies, and Debian's ripgrep to stand in for the GitHub download.
DEBS=(build-essential pkg-config python3 libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep)
missing=()
for deb in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q "install ok installed" || missing+=("$deb")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing[@]}" ||
    { apt-get update -qq && apt-get install -y --no-install-recommends "${missing[@]}"; }
fi

CACHE="${TMPDIR:-/tmp}/vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}"
mkdir -p "$CACHE" "$PREFIX/.rgseed"
cp "$(command -v rg)" "$PREFIX/.rgseed/rg"
tar -C "$PREFIX/.rgseed" -czf "$CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" rg

cd "$PREFIX"
[ -f package.json ] || echo '{"name":"code-server-host","private":true}' > package.json
# nodedir: the Node headers the nodejs .deb ships (node-gyp would download them otherwise);
# yes: node-pty's postinstall must not prompt.
npm_config_nodedir=/usr npm_config_yes=true npm_config_unsafe_perm=true \
  npm install --no-audit --no-fund --unsafe-perm --foreground-scripts --loglevel=error \
  "code-server@$VERSION"
"$BIN" --version

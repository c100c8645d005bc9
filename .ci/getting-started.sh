#!/usr/bin/env bash
# Runs every `sh` block of docs/getting-started.md as written, as tests/getting_started_doc.rs
# does for the terminal ones: each block in its own `bash -euo pipefail`, HOME a fresh
# folder, in the repository for blocks that use its files and in ~/demo for the others.
# Stand-ins for what a user has:
# - PyPI does not have jellycell-lsp yet, so `uv tool install jellycell-lsp` installs the
#   wheel CI built instead: JELLYCELL_WHEEL, the path of a wheel made by
#   `maturin build --release` (.ci/wheel.sh), default the one in target/wheels/. The rest
#   of the block runs as written, and uv puts the binary in ~/.local/bin, which is on PATH
#   (as `uv tool update-shell` makes it).
# - No Rust toolchain: no folder with cargo, rustc or rustup stays on PATH.
# - `code` is code-server (tests/vscode.rs installs it into target/code-server) and BROWSER
#   fetches the page `preview --open` opens, then stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
wheel="${JELLYCELL_WHEEL:-$(ls -t "$repo"/target/wheels/jellycell_lsp-*.whl 2>/dev/null | head -1)}"
[ -f "$wheel" ] || { echo "no wheel: run .ci/wheel.sh or set JELLYCELL_WHEEL"; exit 1; }
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
mkdir -p "$home/bin" "$home/.local/bin"
ln -sf "$repo/target/code-server/node_modules/.bin/code-server" "$home/bin/code"
cat > "$home/bin/fetch-and-stop" <<'SH'
#!/usr/bin/env bash
curl -sf "$1" > "$HOME/preview.html"
kill "$PPID"
SH
chmod +x "$home/bin/fetch-and-stop"
no_rust=""
IFS=: read -ra dirs <<< "$PATH"
for dir in "${dirs[@]}"; do
  [ -n "$dir" ] || continue
  [ -e "$dir/cargo" ] || [ -e "$dir/rustc" ] || [ -e "$dir/rustup" ] && continue
  no_rust="${no_rust:+$no_rust:}$dir"
done
export HOME="$home" PATH="$home/bin:$home/.local/bin:$no_rust" BROWSER="$home/bin/fetch-and-stop"
[ -d "$repo/target/py" ] && export PATH="$repo/target/py/bin:$PATH"
unset XDG_BIN_HOME XDG_DATA_HOME XDG_CACHE_HOME UV_TOOL_DIR UV_TOOL_BIN_DIR

python3 - "$repo/docs/getting-started.md" > "$home/blocks" <<'PY'
import sys, json
blocks, current = [], None
for line in open(sys.argv[1]).read().splitlines():
    if current is None and line == "```sh":
        current = []
    elif current is not None and line == "```":
        blocks.append("\n".join(current) + "\n"); current = None
    elif current is not None:
        current.append(line)
print(json.dumps(blocks))
PY
count=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$home/blocks")
for i in $(seq 0 $((count - 1))); do
  block=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[int(sys.argv[2])], end="")' "$home/blocks" "$i")
  case "$block" in
    *fixtures/*|*editors/*) dir="$repo" ;;
    *) dir="$home/demo" ;;
  esac
  [ -d "$dir" ] || dir="$home"   # the blocks before ~/demo is made
  block="${block//uv tool install jellycell-lsp/uv tool install \"$wheel\"}"
  echo "== getting-started block $((i + 1)) (in $dir)"
  status=0
  (cd "$dir" && bash -euo pipefail -c "$block") || status=$?
  case "$block" in
    # Stopped by the BROWSER stand-in once the page was fetched.
    *"preview --open"*) [ -s "$HOME/preview.html" ] || { echo "preview served no page"; exit 1; } ;;
    *) [ "$status" = 0 ] || { echo "block $((i + 1)) failed with $status"; exit 1; } ;;
  esac
done
installed="$(command -v jellycell-lsp)"
[ "$installed" = "$home/.local/bin/jellycell-lsp" ] || { echo "jellycell-lsp is $installed, not uv's"; exit 1; }
echo "== every command of docs/getting-started.md ran, with the wheel's jellycell-lsp"

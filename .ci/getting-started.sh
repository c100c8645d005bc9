#!/usr/bin/env bash
# Runs every `sh` block of docs/getting-started.md as written, as tests/getting_started_doc.rs
# does for the terminal ones: each block in its own `bash -euo pipefail`, HOME a fresh
# folder, in the repository for blocks that use its files and in ~/demo for the others.
# Stand-ins for what a user has: `code` is code-server (tests/vscode.rs installs it into
# target/code-server) and BROWSER fetches the page `preview --open` opens, then stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
mkdir -p "$home/bin"
ln -sf "$repo/target/code-server/node_modules/.bin/code-server" "$home/bin/code"
cat > "$home/bin/fetch-and-stop" <<'SH'
#!/usr/bin/env bash
curl -sf "$1" > "$HOME/preview.html"
kill "$PPID"
SH
chmod +x "$home/bin/fetch-and-stop"
export HOME="$home" PATH="$home/bin:$home/.cargo/bin:$PATH" BROWSER="$home/bin/fetch-and-stop"
[ -d "$repo/target/py" ] && export PATH="$repo/target/py/bin:$PATH"
# Cargo's registry and rustup's toolchains stay where they were installed; only what
# `cargo install` writes goes to the new ~/.cargo.
export CARGO_HOME="${CARGO_HOME_ORIGINAL:-$home/.cargo}"
export RUSTUP_HOME="${RUSTUP_HOME_ORIGINAL:-$home/.rustup}"
mkdir -p "$home/.cargo/bin"
export CARGO_INSTALL_ROOT="$home/.cargo"

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
    *fixtures/*|*editors/*|*"--path ."*|*.venv*) dir="$repo" ;;
    *) dir="$home/demo" ;;
  esac
  echo "== getting-started block $((i + 1)) (in $dir)"
  status=0
  (cd "$dir" && bash -euo pipefail -c "$block") || status=$?
  case "$block" in
    # Stopped by the BROWSER stand-in once the page was fetched.
    *"preview --open"*) [ -s "$HOME/preview.html" ] || { echo "preview served no page"; exit 1; } ;;
    *) [ "$status" = 0 ] || { echo "block $((i + 1)) failed with $status"; exit 1; } ;;
  esac
done
echo "== every command of docs/getting-started.md ran"

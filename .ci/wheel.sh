#!/usr/bin/env bash
# Builds the Python wheel of jellycell-lsp (pyproject.toml, maturin `bindings = "bin"`),
# CI's one release build, and installs it the way a user without Rust does: `pip install`
# of the wheel into a fresh venv with no cargo, rustc or rustup on PATH, then the installed
# binary's `--version`, and `--check` and `run` on a copy of the demo project (the kernel is
# the test venv's Python, JELLYCELL_TEST_PYTHON or target/py). The wheel is left in target/wheels/ for
# .ci/getting-started.sh (JELLYCELL_WHEEL) and the bundled VS Code extension.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

echo "-- maturin build --release (target/wheels)"
python3 -m venv target/maturin
target/maturin/bin/pip install --quiet --disable-pip-version-check maturin==1.16.0
rm -rf target/wheels
target/maturin/bin/maturin build --release --locked --out target/wheels
wheel=$(ls "$repo"/target/wheels/jellycell_lsp-*.whl)

# PATH without the Rust toolchain: no folder that holds cargo, rustc or rustup.
no_rust=""
IFS=: read -ra dirs <<< "$PATH"
for dir in "${dirs[@]}"; do
  [ -n "$dir" ] || continue
  [ -e "$dir/cargo" ] || [ -e "$dir/rustc" ] || [ -e "$dir/rustup" ] && continue
  no_rust="${no_rust:+$no_rust:}$dir"
done

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
echo "-- pip install $(basename "$wheel") into a fresh venv, no Rust on PATH"
PATH="$no_rust" python3 -m venv "$scratch/env"
PATH="$no_rust" "$scratch/env/bin/pip" install --quiet --disable-pip-version-check --no-index "$wheel"
cp -r fixtures/demo "$scratch/demo"
(
  cd "$scratch/demo"
  # The test venv first: its python3 (with ipykernel) runs the kernel.
  export PATH="$(dirname "${JELLYCELL_TEST_PYTHON:-$repo/target/py/bin/python3}"):$scratch/env/bin:$no_rust"
  if command -v cargo || command -v rustc; then echo "a Rust toolchain is on PATH"; exit 1; fi
  [ "$(command -v jellycell-lsp)" = "$scratch/env/bin/jellycell-lsp" ]
  version=$(jellycell-lsp --version)
  expected="jellycell-lsp $(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -1)"
  [ "$version" = "$expected" ] || { echo "--version said \"$version\", not \"$expected\""; exit 1; }
  echo "$version"
  jellycell-lsp --check
  jellycell-lsp run notebooks/tour.py
  jellycell-lsp run notebooks/tour.py | tee "$scratch/second"
  grep -q "0 ran, .*(no kernel started)" "$scratch/second" || { echo "the second run was not all cached"; exit 1; }
)
echo "-- the wheel installs and runs without Rust: $wheel"

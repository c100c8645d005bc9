#!/usr/bin/env bash
# Byte-for-byte parity of `--check` between two builds (a CPU change must not change a
# finding, its order, position or message). Not a cargo bench: run it by hand with the
# base build and the new one, e.g.
#
#   benches/check_parity.sh /tmp/base/jellycell-lsp target/release/jellycell-lsp
#
# Compares `--check --format json` (`--no-cache`, and cold: the check cache removed
# first) with the environment hints off (for the fixtures also on) of:
# `fixtures/parity`, `fixtures/editors`, `fixtures/demo`; a 200 × 50 project in
# `benches/check_scaling.rs`'s notebook shape; and a corpus of real Python (the `.py`
# files of PYTHON's standard library, each cut into cells at its top-level statements,
# so the names rules, the dataflow and the syntax checks see code nobody wrote for
# them; every other module with its cells reversed, so names are read before they are
# defined; `PARITY_FILES` of them, 400 by default), checked as one project and, for a
# sample, one notebook at a time. Every project is copied to a scratch folder first.
# Prints one line per comparison and exits 1 on the first difference, leaving both
# outputs in the scratch folder.
set -euo pipefail

base=$(realpath "$1")
new=$(realpath "$2")
python=${PYTHON:-python3}
files=${PARITY_FILES:-400}
repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/check-parity.XXXXXX")
no_hints=(--ignore missing-import,jc-without-jellycell)

compare() { # name, project folder, extra arguments...
    local name=$1 dir=$2
    shift 2
    local mode out_base out_new
    for mode in no-cache cold; do
        out_base="$scratch/$name.$mode.base.json"
        out_new="$scratch/$name.$mode.new.json"
        for side in base new; do
            local bin=$base out=$out_base
            if [ "$side" = new ]; then bin=$new out=$out_new; fi
            rm -rf "$dir/.jellycell/cache/jellycell-lsp/check"
            local cache=()
            if [ "$mode" = no-cache ]; then cache=(--no-cache); fi
            (cd "$dir" && "$bin" --check --format json "${cache[@]}" "$@" >"$out" 2>&1 || true)
        done
        if ! cmp -s "$out_base" "$out_new"; then
            echo "DIFFERENT: $name ($mode $*): $out_base $out_new"
            exit 1
        fi
        echo "same: $name ($mode $*, $(wc -c <"$out_new") bytes)"
    done
}

copy() { # fixture name → scratch copy
    cp -r "$repo/fixtures/$1" "$scratch/$1"
    rm -rf "$scratch/$1/.jellycell"
    echo "$scratch/$1"
}

for fixture in parity editors demo; do
    dir=$(copy "$fixture")
    compare "$fixture" "$dir" "${no_hints[@]}"
    compare "$fixture-hints" "$dir"
done

"$python" - "$scratch" "$files" <<'PY'
import os, sys, sysconfig

scratch, count = sys.argv[1], int(sys.argv[2])

def project(root):
    os.makedirs(os.path.join(root, "notebooks"), exist_ok=True)
    for folder in ["data", "artifacts", "site", "manuscripts"]:
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    with open(os.path.join(root, "jellycell.toml"), "w") as f:
        f.write('[project]\nname = "parity"\n')

# benches/check_scaling.rs's notebook shape.
def shaped(nb, cells):
    t = '# /// script\n# dependencies = ["pandas"]\n# ///\n\n'
    for cell in range(cells):
        name = f"n{nb}c{cell}"
        m = cell % 5
        if m == 0:
            t += f"# %% [markdown]\n# ## Section {cell}\n#\n# Some prose about the data.\n\n"
        elif m == 1:
            t += f'# %% tags=["jc.load", "name={name}"]\nimport json\n\nrows = [{{"k": {cell}, "v": {nb}}}]\njc.save(rows, "artifacts/{name}.json")\n\n'
        elif m == 2:
            t += f'# %% tags=["jc.step", "name={name}", "deps=n{nb}c{cell-1}"]\nrows = jc.load("artifacts/n{nb}c{cell-1}.json")\ntotal = sum(row["v"] for row in rows)\nprint(f"total: {{total}}")\n\n'
        elif m == 3:
            t += f'# %% tags=["jc.figure", "name={name}"]\n# %matplotlib inline\nimport matplotlib.pyplot as plt\n\nfig, ax = plt.subplots()\nax.plot([1, 2, 3])\njc.figure("artifacts/{name}.png")\n\n'
        else:
            t += f'# %% tags=["jc.step", "name={name}"]\ndef helper_{cell}(x):\n    """Double x."""\n    return x * 2\n\nvalues = [helper_{cell}(i) for i in range(10)]\n\n'
    return t

bench = os.path.join(scratch, "bench200")
project(bench)
for i in range(200):
    with open(os.path.join(bench, f"notebooks/nb{i:04}.py"), "w") as f:
        f.write(shaped(i, 50))

corpus = os.path.join(scratch, "corpus")
project(corpus)
stdlib = sysconfig.get_paths()["stdlib"]
sources = []
for folder, dirs, names in os.walk(stdlib):
    dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "__pycache__"))
    sources += [os.path.join(folder, n) for n in sorted(names) if n.endswith(".py")]
written = 0
for path in sources:
    if written >= count:
        break
    try:
        text = open(path, encoding="utf-8").read()
    except (UnicodeDecodeError, OSError):
        continue
    if len(text) > 200_000:
        continue
    cells, current, in_string = [], [], False
    for line in text.splitlines():
        top = line[:1] not in ("", " ", "\t", "#", ")", "]", "}") and not line.startswith(("else", "elif", "except", "finally", "case"))
        if top and not in_string and current and not current[-1].endswith(("\\", ",", "(")) and not current[-1].startswith("@"):
            cells.append(current)
            current = []
        current.append(line)
        # A rough guard against cutting inside a triple-quoted string.
        if (line.count('"""') + line.count("'''")) % 2 == 1:
            in_string = not in_string
    if current:
        cells.append(current)
    # Every other module with its cells in reverse order: names read before the cell that
    # defines them (use-before-define, undefined-name, the producers).
    if written % 2 == 1:
        cells.reverse()
    out = "".join("# %%\n" + "\n".join(cell) + "\n\n" for cell in cells)
    with open(os.path.join(corpus, f"notebooks/m{written:04}.py"), "w") as f:
        f.write(out)
    written += 1
PY

compare bench200 "$scratch/bench200" "${no_hints[@]}"
compare bench200-one "$scratch/bench200" "${no_hints[@]}" notebooks/nb0007.py
compare corpus "$scratch/corpus" "${no_hints[@]}"
for index in 0000 0013 0042 0101 0230 0399; do
    if [ -f "$scratch/corpus/notebooks/m$index.py" ]; then
        compare "corpus-m$index" "$scratch/corpus" "${no_hints[@]}" "notebooks/m$index.py"
    fi
done
echo "all the same ($scratch)"

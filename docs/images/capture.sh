#!/usr/bin/env bash
# Takes the pictures of docs/getting-started.md on a copy of the demo project:
# - docs/images/nvim.png: Neovim 0.11 in tmux with editors/nvim, after :JellycellRunAll,
#   with a hover open (tmux's coloured capture rendered as HTML in headless Chromium);
# - docs/images/preview.png: the preview page of the notebook, with the outputs of that run.
# (docs/images/vscode.png, vscode-inline-outputs.png and vscode-outputs-view.png come from
# tests/vscode.rs: copy them from target/ after a run; Debian's fonts-noto-color-emoji draws the 🖼.)
# usage: docs/images/capture.sh   (from the repository root; needs tmux, chromium,
#        target/nvim from the tests, ipykernel in target/py, and a built target/release)
set -euo pipefail
repo=$(pwd)
nvim=${JELLYCELL_TEST_NVIM:-$repo/target/nvim/bin/nvim}
server=$repo/target/release/jellycell-lsp
work=$(mktemp -d)
trap 'tmux kill-session -t jc-shot 2>/dev/null || true; kill $preview 2>/dev/null || true; sleep 1; rm -rf "$work"' EXIT
preview=""
shot() { # URL OUT WIDTH HEIGHT
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d -p "$work")" --hide-scrollbars --window-size="$3,$4" \
    --screenshot="$2" "$1" 2>/dev/null
}
cp -r fixtures/demo "$work/demo"
rm -rf "$work/demo/.jellycell"
cat > "$work/init.lua" <<LUA
vim.opt.rtp:prepend('$repo/editors/nvim')
vim.o.termguicolors = true
vim.o.number = true
vim.o.signcolumn = 'yes'
vim.cmd.colorscheme('habamax')
require('jellycell').setup({ cmd = { '$server' } })
vim.diagnostic.config({ virtual_text = true })
LUA
cd "$work/demo"
tmux new-session -d -s jc-shot -x 130 -y 40 \
  "env PATH=$repo/target/py/bin:\$PATH TERM=xterm-256color $nvim -u $work/init.lua notebooks/tour.py"
sleep 3
tmux send-keys -t jc-shot ':JellycellRunAll' Enter
sleep 8
tmux send-keys -t jc-shot '29G' ':lua vim.lsp.codelens.refresh({bufnr=0})' Enter
sleep 1
tmux send-keys -t jc-shot ':echo' Enter 'K'
sleep 2
tmux capture-pane -t jc-shot -e -p > "$work/screen.ansi"
python3 - "$work/screen.ansi" "$work/screen.html" <<'PY'
import html, re, sys
BASE = ["#1c1c1c", "#d75f5f", "#87af87", "#afaf87", "#5f87af", "#af87af", "#5f8787", "#9e9e9e",
        "#767676", "#d7875f", "#afd7af", "#d7d787", "#87afd7", "#d7afd7", "#87afaf", "#bcbcbc"]
def c256(n):
    if n < 16: return BASE[n]
    if n < 232:
        n -= 16; steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[n // 6 % 6], steps[n % 6])
    v = 8 + (n - 232) * 10; return "#%02x%02x%02x" % (v, v, v)
fg, bg, bold = None, None, False
out = []
for line in open(sys.argv[1], encoding="utf-8", errors="replace").read().split("\n"):
    parts = re.split(r"\x1b\[([0-9;]*)m", line)
    row = []
    for i, part in enumerate(parts):
        if i % 2 == 1:
            codes = [int(c) if c else 0 for c in part.split(";")] or [0]
            j = 0
            while j < len(codes):
                c = codes[j]
                if c == 0: fg, bg, bold = None, None, False
                elif c == 1: bold = True
                elif c == 22: bold = False
                elif c in (38, 48) and j + 1 < len(codes):
                    if codes[j + 1] == 2 and j + 4 < len(codes):
                        col = "#%02x%02x%02x" % tuple(codes[j + 2:j + 5]); j += 4
                    elif codes[j + 1] == 5 and j + 2 < len(codes):
                        col = c256(codes[j + 2]); j += 2
                    else: col = None
                    if c == 38: fg = col
                    else: bg = col
                    j += 1
                elif c == 39: fg = None
                elif c == 49: bg = None
                elif 30 <= c <= 37: fg = BASE[c - 30]
                elif 90 <= c <= 97: fg = BASE[c - 82]
                elif 40 <= c <= 47: bg = BASE[c - 40]
                j += 1
        elif part:
            style = (f"color:{fg};" if fg else "") + (f"background:{bg};" if bg else "") + ("font-weight:bold;" if bold else "")
            row.append(f'<span style="{style}">{html.escape(part)}</span>')
    out.append("".join(row))
page = ('<html><body style="margin:0;background:#1c1c1c;color:#bcbcbc">'
        '<pre style="margin:0;padding:8px;font:14px/1.25 \'DejaVu Sans Mono\',monospace">'
        + "\n".join(out) + "</pre></body></html>")
open(sys.argv[2], "w", encoding="utf-8").write(page)
PY
shot "file://$work/screen.html" "$repo/docs/images/nvim.png" 1190 730
echo "wrote docs/images/nvim.png"
tmux kill-session -t jc-shot || true
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$server" preview . --port "$port" > "$work/preview.log" 2>&1 &
preview=$!
sleep 2
shot "http://127.0.0.1:$port/nb/notebooks/tour.py" "$repo/docs/images/preview.png" 1100 900
echo "wrote docs/images/preview.png"

"""Instructions per edit (docs/benchmarks.md, "Names findings kept per cell"): the
py:percent notebook and edit of benches/edit_scaling.rs, the server under callgrind with
instrumentation off for the open and 5 warm-up edits, on for EDITS timed edits.
usage: python3 benches/edit_callgrind.py SERVER CELLS EDITS OUTFILE [NOTEBOOKS], then
`grep ^totals OUTFILE` (instructions of the EDITS timed edits) or `callgrind_annotate`.
With NOTEBOOKS, the project of edit_scaling.rs's project rows: NOTEBOOKS notebooks of
CELLS cells (names prefixed per notebook, so nothing another notebook sees changes), the
edit in the first."""
import os, subprocess, sys, tempfile, time

from lsp_stdio import StdioClient

server, cells, edits, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
notebooks = int(sys.argv[5]) if len(sys.argv) > 5 else None


def cells_of(n, prefix=""):
    result = []
    for i in range(n):
        if i % 10 == 0:
            result.append((None, f"## Section {i}\n\nSome prose about part {i}.\n"))
            continue
        deps = "" if i % 10 == 1 else f', "deps={prefix}c{i-1}"'
        body = f"value_{i} = {i} * 2\n"
        if i % 5 == 0:
            body += f'jc.save(value_{i}, "artifacts/{prefix}v{i}.json")\n'
        elif i % 5 == 3:
            body += f'loaded = jc.load("artifacts/{prefix}v{i-3}.json")\n'
        body += "for item in range(3):\n    print(item)\n"
        result.append((f'"jc.step", "name={prefix}c{i}"{deps}', body))
    return result


def percent(n, prefix=""):
    text = '# /// script\n# dependencies = ["pandas"]\n# ///\n\n'
    for header, body in cells_of(n, prefix):
        if header is None:
            text += "# %% [markdown]\n"
            for line in body.splitlines():
                text += f"# {line}\n".replace("# \n", "#\n")
            text += "\n"
        else:
            text += f"# %% tags=[{header}]\n{body}\n"
    return text


root = tempfile.mkdtemp()
open(os.path.join(root, "jellycell.toml"), "w").write('[project]\nname = "bench"\n')
for folder in ["notebooks", "data", "artifacts", "site", "manuscripts"]:
    os.makedirs(os.path.join(root, folder))
if notebooks is None:
    text = percent(cells)
    path = os.path.join(root, "notebooks", "nb.py")
else:
    for k in range(1, notebooks):
        open(os.path.join(root, "notebooks", f"nb{k:04}.py"), "w").write(percent(cells, f"n{k}_"))
    text = percent(cells, "n0_")
    path = os.path.join(root, "notebooks", "nb0000.py")
open(path, "w").write(text)
middle = cells // 2 + 1
needle = f"value_{middle} = {middle} * "
offset = text.index(needle) + len(needle)
line = text[:offset].count("\n")
character = offset - (text[:offset].rfind("\n") + 1)

env = dict(os.environ, MALLOC_ARENA_MAX="2")
proc = subprocess.Popen(
    ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", server],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=root,
)


client = StdioClient(proc)
send, wait = client.send, client.wait


uri = "file://" + path
send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": "file://" + root, "capabilities": {"general": {"positionEncodings": ["utf-8", "utf-16"]}}}})
wait(lambda m: m.get("id") == 1)
send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}})
version = 1


def diagnostics():
    wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri and m["params"].get("version") == version)


diagnostics()
count = 0


def edit():
    global version, count
    version += 1
    send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"range": {"start": {"line": line, "character": character}, "end": {"line": line, "character": character + 1}}, "text": str(2 + count % 7)}]}})
    count += 1
    diagnostics()


for _ in range(5):
    edit()
time.sleep(1)  # let the garbage collection of the warm-up finish
subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True, stdout=subprocess.DEVNULL)
for _ in range(edits):
    edit()
time.sleep(1)
subprocess.run(["callgrind_control", "-i", "off", str(proc.pid)], check=True, stdout=subprocess.DEVNULL)
send({"jsonrpc": "2.0", "id": 99, "method": "shutdown"})
wait(lambda m: m.get("id") == 99)
send({"jsonrpc": "2.0", "method": "exit"})
proc.wait(timeout=600)
subprocess.run(["rm", "-rf", root])

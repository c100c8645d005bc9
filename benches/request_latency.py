"""Benchmark (figures, not pass/fail): one request's latency from a second client.

    python3 benches/request_latency.py SERVER NOTEBOOK [COUNT] [METHOD]

Starts SERVER (a jellycell-lsp build) over stdio, opens NOTEBOOK (its project is the
folder above the notebook's folder), then sends METHOD (default
`textDocument/documentSymbol`) for the whole document COUNT times (default 400), each
after the previous answer, and prints the answer's size and the p50 / p95 / min of the
last 80 % of the requests, from the request written to the answer's last byte read (the
answer is not parsed). The Rust benches' client does more per answer (a parse into a
JSON tree); this one, in another language, shows how much of a figure is the client's.
`WRAP="perf record -g -o FILE --"` runs the server under a profiler.
"""

import json
import os
import subprocess
import sys
import time

from lsp_stdio import StdioClient


def main():
    server, notebook = sys.argv[1], os.path.abspath(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 400
    method = sys.argv[4] if len(sys.argv) > 4 else "textDocument/documentSymbol"
    wrap = os.environ.get("WRAP", "").split()
    child = subprocess.Popen(wrap + [server], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    client = StdioClient(child)
    send = client.send

    def call(request_id, method, params):
        send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        # The answers timed here start so (`encoded.rs`): known without a parse.
        prefix = b'{"jsonrpc":"2.0","id":%d,' % request_id
        while True:
            body = client.read_body()
            if body.startswith(prefix):
                return body
            message = json.loads(body)
            if "method" not in message and message.get("id") == request_id:
                return body
            client.answer_if_request(message)

    root = os.path.dirname(os.path.dirname(notebook))
    uri = "file://" + notebook
    capabilities = {"general": {"positionEncodings": ["utf-8", "utf-16"]}}
    call(0, "initialize", {"processId": os.getpid(), "rootUri": "file://" + root,
                           "capabilities": capabilities})
    send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    with open(notebook, encoding="utf-8") as text:
        document = {"uri": uri, "languageId": "python", "version": 1, "text": text.read()}
    send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
          "params": {"textDocument": document}})

    samples, size = [], 0
    for request_id in range(1, count + 1):
        sent = time.perf_counter()
        body = call(request_id, method, {"textDocument": {"uri": uri}})
        samples.append((time.perf_counter() - sent) * 1000)
        size = len(body)
    timed = sorted(samples[count // 5:])
    print(f"{method}: {size / 1024:.0f} KiB, p50 {timed[len(timed) // 2]:.2f} ms, "
          f"p95 {timed[int(len(timed) * 0.95)]:.2f} ms, min {timed[0]:.2f} ms "
          f"({len(timed)} of {count} requests)")
    call(count + 1, "shutdown", None)
    send({"jsonrpc": "2.0", "method": "exit"})
    child.wait()


if __name__ == "__main__":
    main()

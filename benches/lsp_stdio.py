"""The LSP framing of the Python bench scripts: messages to a server's stdin, bodies
from its stdout (Content-Length headers), a server's own requests answered with null."""

import json


class StdioClient:
    def __init__(self, process):
        self.process = process

    def send(self, message):
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def read_body(self):
        """The next message's body, unparsed."""
        length = 0
        while True:
            header = self.process.stdout.readline()
            if not header:
                raise SystemExit("the server closed its stdout")
            if header in (b"\r\n", b"\n"):
                break
            if header.lower().startswith(b"content-length:"):
                length = int(header.split(b":")[1])
        return self.process.stdout.read(length)

    def answer_if_request(self, message):
        """Answers `message` with null if it is a request of the server's."""
        if "id" in message and "method" in message:
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})

    def wait(self, accept):
        """Reads messages until `accept` takes one, and returns it."""
        while True:
            message = json.loads(self.read_body())
            self.answer_if_request(message)
            if accept(message):
                return message

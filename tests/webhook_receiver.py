"""A webhook receiver for the tests: an HTTPS server on loopback, in a background thread, that
records every POST and answers from a script.

    with Receiver(authority) as receiver:
        receiver.answers = [(503, {"Retry-After": "120"}), (200, {})]  # then 200 for the rest
        ...
        [first, second] = receiver.seen

`hang()` makes the next requests wait, unanswered, until `release()` (or the server stops).
Its certificate is issued by `authority` (tests.h2_server.Authority): point CA_BUNDLE at it.
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.h2_server import Authority


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    client: tuple[str, int]  # one per TCP connection


@dataclass
class Receiver:
    authority: Authority
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    seen: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._released = threading.Event()
        self._released.set()
        issued = self.authority.issue_server("receiver")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(issued.certificate_file, issued.key_file)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]

    def url(self, path: str = "/hooks") -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def hang(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def __enter__(self) -> Receiver:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def _answer(self) -> tuple[int, dict[str, str]]:
        return self.answers.pop(0) if self.answers else (200, {})


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps connections alive between requests

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received = Received(self.path, dict(self.headers.items()), body, self.client_address)
            receiver.seen.append(received)
            receiver._released.wait(30)
            status, headers = receiver._answer()
            content = b'{"ok": true}' if status < 300 else b'{"error": "' + b"x" * 500 + b'"}'
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler

"""A loopback Azure Translator v3: POST /translate as Microsoft documents it.

It checks what the real service checks (api-version, key, JSON body, the request limits) and
answers with the documented error body when a check fails. It "translates" by upper-casing the
text outside <span class="notranslate"> and prefixing the target code, records every request,
and can be told to fail the next requests:

    with FakeTranslator() as fake:
        fake.fail_next(429, retry_after="1")
        fake.hang_next()
"""

from __future__ import annotations

import html
import json
import re
import threading
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

KEY = "test-key"
MAX_ELEMENTS = 1000
MAX_ELEMENT_CHARS = 50_000
MAX_REQUEST_CHARS = 50_000
NOTRANSLATE_SPAN = re.compile(r'(<span class="notranslate">.*?</span>)', re.DOTALL)

# Azure's documented error codes and messages (Translator v3 reference, "Errors").
MESSAGES = {
    400021: "The API version parameter is missing or invalid.",
    400036: 'The target language ("To" field) is missing or invalid.',
    400050: "The input text is too long. View request limits.",
    400071: "The value isn't valid for TextType.",
    400072: "The array of input text has too many elements.",
    400074: "The body of the request isn't valid JSON.",
    400077: "The maximum request size has been exceeded. View request limits.",
    401000: "The request isn't authorized because credentials are missing or invalid.",
    403001: "The operation isn't allowed because the subscription has exceeded its free quota.",
    404000: "Resource not found.",
    429000: "The server rejected the request because the client has exceeded request limits.",
    500000: "An unexpected error occurred.",
    503000: "Service is temporarily unavailable.",
}

# The error a scripted failure answers with, by HTTP status.
ERROR_CODES = {401: 401000, 403: 403001, 429: 429000, 500: 500000, 503: 503000}


class Refused(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Received:
    """One request as the fake saw it."""

    params: dict[str, list[str]]
    headers: Message
    body: object


@dataclass(frozen=True)
class Scripted:
    """An answer the fake was told to give instead of translating."""

    status: int
    retry_after: str | None = None
    body: object = None
    hang: bool = False


class FakeTranslator:
    """Serve the fake on 127.0.0.1 at a free port, in a thread, for the duration of a with block."""

    def __init__(self, key: str = KEY) -> None:
        self.key = key
        self.requests: list[Received] = []
        self.scripted: list[Scripted] = []
        self.released = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.fake = self  # type: ignore[attr-defined]

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(self, status: int, retry_after: str | None = None) -> None:
        """Answer the next request with status and Azure's error body for it."""
        self.scripted.append(Scripted(status, retry_after))

    def answer_next(self, body: object) -> None:
        """Answer the next request 200 with body, whatever it asked."""
        self.scripted.append(Scripted(200, body=body))

    def hang_next(self) -> None:
        """Read the next request and never answer it (until the fake stops)."""
        self.scripted.append(Scripted(0, hang=True))

    def __enter__(self) -> FakeTranslator:
        # Poll often so that stopping the fake after each test is quick.
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


class Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep pytest's output for the tests

    def do_POST(self) -> None:
        fake: FakeTranslator = self.server.fake  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        params = parse_qs(url.query)
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        fake.requests.append(Received(params, self.headers, parse_json(raw)))
        if fake.scripted:
            self.play(fake, fake.scripted.pop(0))
            return
        try:
            body = check(fake, url.path, params, self.headers, raw)
        except Refused as refused:
            self.answer_error(refused.code)
            return
        html_text = params.get("textType") == ["html"]
        self.answer(200, translations(body, params["to"], html_text))

    def play(self, fake: FakeTranslator, scripted: Scripted) -> None:
        if scripted.hang:
            fake.released.wait(30)
        elif scripted.status == 200:
            self.answer(200, scripted.body)
        elif 300 <= scripted.status < 400:
            self.answer(scripted.status, None, {"Location": "http://127.0.0.1:9/elsewhere"})
        else:
            headers = {"Retry-After": scripted.retry_after} if scripted.retry_after else {}
            self.answer_error(ERROR_CODES[scripted.status], headers=headers)

    def answer_error(self, code: int, headers: dict | None = None) -> None:
        body = {"error": {"code": code, "message": MESSAGES[code]}}
        self.answer(code // 1000, body, headers)

    def answer(self, status: int, body: object, headers: dict | None = None) -> None:
        data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def parse_json(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def check(fake: FakeTranslator, path: str, params: dict, headers: Message, raw: bytes) -> list:
    """Return the request's body if Azure would accept the request, else raise Refused."""
    if path != "/translate":
        raise Refused(404000)
    if params.get("api-version") != ["3.0"]:
        raise Refused(400021)
    if headers.get("Ocp-Apim-Subscription-Key") != fake.key:
        raise Refused(401000)
    if not params.get("to"):
        raise Refused(400036)
    if params.get("textType", ["plain"]) not in (["plain"], ["html"]):
        raise Refused(400071)
    body = parse_json(raw)
    if not headers.get("Content-Type", "").startswith("application/json") or not is_body(body):
        raise Refused(400074)
    check_limits(body, len(params["to"]))
    return body


def is_body(body: object) -> bool:
    return isinstance(body, list) and all(
        isinstance(item, dict) and set(item) == {"Text"} and isinstance(item["Text"], str)
        for item in body
    )


def check_limits(body: list, target_count: int) -> None:
    """Apply the documented limits: characters count once for every target language."""
    if len(body) > MAX_ELEMENTS:
        raise Refused(400072)
    sizes = [len(item["Text"]) for item in body]
    if max(sizes, default=0) > MAX_ELEMENT_CHARS:
        raise Refused(400050)
    if sum(sizes) * target_count > MAX_REQUEST_CHARS:
        raise Refused(400077)


def translations(body: list, targets: list[str], html_text: bool) -> list[dict]:
    def text(document: str, to: str) -> str:
        return translate(document, to) if html_text else f"[{to}] {document.upper()}"

    return [
        {"translations": [{"text": text(item["Text"], to), "to": to} for to in targets]}
        for item in body
    ]


def translate(document: str, target: str) -> str:
    """Upper-case the text outside notranslate spans, as HTML text, and prefix the target."""
    pieces = NOTRANSLATE_SPAN.split(document)  # text, span, text, span, …, text
    return f"[{target}] " + "".join(
        piece if index % 2 else html.escape(html.unescape(piece).upper(), quote=False)
        for index, piece in enumerate(pieces)
    )

"""What the three look-alikes share: reading an ASGI request, answering it, recording both."""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from devices.sandbox.directory import CredentialDirectory
from devices.sandbox.faults import FaultPlan
from devices.sandbox.recorder import Recorder

logger = logging.getLogger(__name__)

# The ASGI extension under which the server hands each request its connection's state (a dict).
CONNECTION_EXTENSION = "pushcenter.connection"
# Read no more than this of a body: every provider's limit is far below, and answers 413 above.
MAX_BODY_READ = 64 * 1024


@dataclass
class Request:
    """One HTTP request as a gateway sees it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    http_version: str
    client_certificate: str | None  # PEM of the TLS client certificate, when one was presented
    # What a gateway keeps about the TLS connection the request came on; it ends with it.
    connection: dict[str, Any] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def bearer_token(self) -> str | None:
        """Return the token of `Authorization: Bearer <token>`, or None."""
        scheme, _, token = (self.header("authorization") or "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return token.strip() or None

    def form(self) -> dict[str, str]:
        """Parse an application/x-www-form-urlencoded body (the last value of each field)."""
        fields = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {name: values[-1] for name, values in fields.items()}

    def query_value(self, name: str) -> str | None:
        values = parse_qs(self.query, keep_blank_values=True).get(name)
        return values[-1] if values else None


@dataclass
class Answer:
    """The status, headers and body to send back."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(
        cls, status: int, document: Any, headers: list[tuple[str, str]] | None = None
    ) -> Answer:
        body = json.dumps(document, separators=(",", ":")).encode()
        return cls(status, [("content-type", "application/json"), *(headers or [])], body)


@dataclass
class Note:
    """What a gateway says about a request for received.jsonl (status comes from the answer)."""

    provider: str
    target: str | None = None
    payload: Any = None
    facts: dict[str, Any] = field(default_factory=dict)  # reason, validate_only, …


class Gateway(ABC):
    """An ASGI app for one provider: subclasses implement `handle`."""

    provider = ""
    faults: tuple = ()

    def __init__(self, directory: CredentialDirectory, recorder: Recorder) -> None:
        self.directory = directory
        self.recorder = recorder
        self.fault_plan = FaultPlan(self.faults)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = await _read_request(scope, receive)
        note = Note(self.provider)
        answer = await self.handle(request, note)
        # Recorded before answering, so a client that has its answer finds the line written.
        self.recorder.record(
            note.provider, note.target, request.headers, note.payload, answer.status, **note.facts
        )
        await _send_answer(send, answer)

    @abstractmethod
    async def handle(self, request: Request, note: Note) -> Answer:
        """Answer one request as the provider would, noting what to record."""

    def reset(self) -> None:
        """Forget per-target request counts and anything else a test may have left behind."""
        self.fault_plan.reset()


async def _read_request(scope: dict, receive: Any) -> Request:
    chunks: list[bytes] = []
    size = 0
    more = True
    while more and size <= MAX_BODY_READ:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = message.get("more_body", False)
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    extensions = scope.get("extensions") or {}
    tls = extensions.get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    return Request(
        method=scope["method"],
        path=scope["path"],
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=b"".join(chunks),
        http_version=scope.get("http_version", "1.1"),
        client_certificate=chain[0] if chain else None,
        connection=extensions.get(CONNECTION_EXTENSION, {}),
    )


async def _send_answer(send: Any, answer: Answer) -> None:
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in answer.headers]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


def parse_json(body: bytes) -> Any:
    """Return the body parsed as JSON, or its text when it is not JSON."""
    text = body.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text

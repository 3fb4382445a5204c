"""A small TLS HTTP/2 server on loopback for transport tests: hypercorn in a background thread.

It records every request it receives (path, method, headers, body, the client's address, the
HTTP version) and answers by path:

- ``/hang``: never answers until the server stops;
- ``/status/{code}``: that status, an ``X-Reason: Teapot`` header and a small JSON body;
- ``/redirect``: 301 to ``/elsewhere``;
- anything else: 200 with a JSON echo of the body's length.

``Certificates`` makes a throwaway CA, a server certificate for 127.0.0.1 signed by it, and
client certificates, with ``cryptography``.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import socket
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypercorn.asyncio import serve
from hypercorn.config import Config


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, as PEM bytes and as files."""

    certificate_pem: bytes
    key_pem: bytes
    certificate_file: str
    key_file: str


class Authority:
    """A throwaway certificate authority writing its files under ``directory``."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self.name = name
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
        self.subject = subject
        self.certificate = (
            _builder(subject, subject, self.key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        self.file = str(directory / f"{name}-ca.pem")
        Path(self.file).write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def issue_server(self, label: str = "server") -> Issued:
        """Issue a certificate for 127.0.0.1 and localhost."""
        names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        return self._issue(
            label,
            "127.0.0.1",
            x509.SubjectAlternativeName(names),
            ExtendedKeyUsageOID.SERVER_AUTH,
        )

    def issue_client(self, label: str = "client") -> Issued:
        """Issue a client certificate (what APNs certificate auth presents)."""
        return self._issue(label, f"{label} of {self.name}", None, ExtendedKeyUsageOID.CLIENT_AUTH)

    def _issue(
        self,
        label: str,
        common_name: str,
        names: x509.SubjectAlternativeName | None,
        usage: x509.ObjectIdentifier,
    ) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        builder = (
            _builder(subject, self.subject, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if names is not None:
            builder = builder.add_extension(names, critical=False)
        certificate = builder.sign(self.key, hashes.SHA256())
        certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        certificate_file = self.directory / f"{self.name}-{label}.pem"
        key_file = self.directory / f"{self.name}-{label}.key"
        certificate_file.write_bytes(certificate_pem)
        key_file.write_bytes(key_pem)
        return Issued(certificate_pem, key_pem, str(certificate_file), str(key_file))


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    client: tuple[str, int]
    http_version: str


@dataclass
class H2Server:
    """Serve the test app over TLS on a free loopback port while the context is open."""

    certificate: Issued
    alpn: tuple[str, ...] = ("h2", "http/1.1")
    client_ca: str = ""  # when set, a client certificate signed by it is required
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        self._fd = listener.detach()  # hypercorn owns the socket from here on

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def connections(self) -> set[tuple[str, int]]:
        """Return the distinct client addresses seen: one per TCP connection."""
        return {request.client for request in self.seen}

    def __enter__(self) -> H2Server:
        self._thread = threading.Thread(target=self._run, name="h2-test-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the test HTTP/2 server did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._loop is not None and self._stop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        config = Config()
        config.bind = [f"fd://{self._fd}"]
        config.certfile = self.certificate.certificate_file
        config.keyfile = self.certificate.key_file
        config.alpn_protocols = list(self.alpn)
        config.graceful_timeout = 0.5
        config.errorlog = None
        if self.client_ca:
            config.ca_certs = self.client_ca
            config.verify_mode = ssl.CERT_REQUIRED
        self._ready.set()
        await serve(self._app, config, shutdown_trigger=self._stop.wait)

    async def _app(self, scope: dict, receive, send) -> None:  # noqa: ANN001 (ASGI callables)
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.seen.append(
            Seen(
                method=scope["method"],
                path=scope["path"],
                headers=[(name.decode(), value.decode()) for name, value in scope["headers"]],
                body=body,
                client=tuple(scope["client"]),
                http_version=scope["http_version"],
            )
        )
        await self._answer(scope["path"], body, send)

    async def _answer(self, path: str, body: bytes, send) -> None:  # noqa: ANN001
        headers: list[tuple[bytes, bytes]] = [(b"content-type", b"application/json")]
        if path == "/hang":
            assert self._stop is not None
            await self._stop.wait()
            status, content = 503, b"{}"
        elif path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
            headers.append((b"X-Reason", b"Teapot"))
            content = json.dumps({"reason": "Teapot"}).encode()
        elif path == "/redirect":
            status, content = 301, b""
            headers.append((b"location", b"/elsewhere"))
        else:
            status, content = 200, json.dumps({"length": len(body)}).encode()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


async def _lifespan(receive, send) -> None:  # noqa: ANN001
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return

"""Run nginx from Debian as a TLS + HTTP/2 sink that answers 200 to every request.

It answers as each push service would when all goes well, so our clients can be measured
against it without a network:

- APNs (``/3/device/...`` and anything not listed below): ``{}``, echoing the request's
  ``apns-id`` header as APNs does;
- FCM: ``POST /v1/projects/{project}/messages:send`` gets a message name, and ``POST /token``
  (Google's OAuth token endpoint) a fixed access token;
- WNS: a channel URI under ``/w/`` gets ``X-WNS-Status: received`` and an ``X-WNS-Msg-ID``, and
  ``POST /{tenant}/oauth2/v2.0/token`` (Azure AD's) a fixed access token.

It listens on 127.0.0.1 and on every other address ``localhost`` resolves to (and ::1 when the
host has IPv6 loopback), since WNS channel URIs must name a host, not an IP address; its
self-signed certificate is valid for both ``127.0.0.1`` and ``localhost``.

Used by ``bench/providers.py``: the benchmark needs a server that is not the bottleneck, and
h2load measures the sink's own capacity beside our figures. nginx runs as the current user in
the foreground (``daemon off``) with a config and a fresh self-signed certificate in a temporary
directory, and is stopped when the context ends.
"""

from __future__ import annotations

import datetime
import getpass
import ipaddress
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NGINX = "/usr/sbin/nginx"

CONFIG = """\
{user}
worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    server {{
{listen}
        ssl_certificate {root}/sink.crt;
        ssl_certificate_key {root}/sink.key;
        http2_max_concurrent_streams 1000;
        default_type application/json;
        # APNs answers with the request's apns-id; aioapns matches answers to requests by it.
        add_header apns-id $http_apns_id always;
        location / {{ return 200 '{{}}'; }}
        # FCM HTTP v1 and Google's OAuth token endpoint.
        location ~ ^/v1/projects/[^/]+/messages:send$ {{
            return 200 '{{"name": "projects/p/messages/1"}}';
        }}
        location = /token {{
            return 200 '{{"access_token": "bench", "expires_in": 3599, "token_type": "Bearer"}}';
        }}
        # WNS channel URIs (their own add_header replaces the server's) and Azure AD's token.
        location ^~ /w/ {{
            add_header X-WNS-Status received always;
            add_header X-WNS-Msg-ID $request_id always;
            return 200 '';
        }}
        location ~ "^/[^/]+/oauth2/v2\\.0/token$" {{
            return 200 '{{"token_type": "Bearer", "expires_in": 86399, "access_token": "bench"}}';
        }}
    }}
}}
"""


@dataclass(frozen=True)
class Sink:
    """A running sink: where it listens and the certificate to trust."""

    port: int
    ca_file: str

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def localhost_origin(self) -> str:
        """The same sink by host name, as a WNS channel URI must name it."""
        return f"https://localhost:{self.port}"


@contextmanager
def nginx_sink(workers: int = 1) -> Iterator[Sink]:
    """Start nginx on a free loopback port; stop it and remove its files on exit."""
    if not os.path.exists(NGINX):
        raise SystemExit(f"{NGINX} is missing: apt-get install nginx (make bench does)")
    root = Path(tempfile.mkdtemp(prefix="nginx-sink-"))
    try:
        _write_certificate(root)
        addresses = _listen_addresses()
        port = _free_port(addresses)
        listen = "\n".join(
            f"        listen {f'[{address}]' if ':' in address else address}:{port} ssl http2;"
            for address in addresses
        )
        # nginx started by root hands its workers to "nobody" unless told otherwise.
        user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
        (root / "nginx.conf").write_text(
            CONFIG.format(user=user, workers=workers, root=root, port=port, listen=listen)
        )
        process = subprocess.Popen(
            [
                NGINX,
                "-p",
                str(root),
                "-c",
                str(root / "nginx.conf"),
                "-e",
                str(root / "error.log"),
                "-g",
                "daemon off;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _wait_for_port(port, process, root)
            yield Sink(port=port, ca_file=str(root / "sink.crt"))
        finally:
            process.terminate()
            process.wait(timeout=10)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _write_certificate(root: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (root / "sink.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (root / "sink.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _listen_addresses() -> list[str]:
    """Return 127.0.0.1, ::1 when it can be bound, and whatever else localhost resolves to.

    libcurl resolves ``localhost`` itself to both loopback addresses, whatever /etc/hosts says.
    """
    addresses = ["127.0.0.1"]
    if _port_free("::1", 0):
        addresses.append("::1")
    for *_, sockaddr in socket.getaddrinfo("localhost", None, type=socket.SOCK_STREAM):
        address = str(sockaddr[0])
        if address not in addresses:
            if not ipaddress.ip_address(address).is_loopback:
                raise SystemExit(f"localhost resolves to {address}, not a loopback address")
            addresses.append(address)
    return addresses


def _free_port(addresses: list[str]) -> int:
    """Return a port free on every address (ephemeral on the first, checked on the others)."""
    for _ in range(20):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if all(_port_free(address, port) for address in addresses):
            return port
    raise SystemExit(f"found no port free on all of {', '.join(addresses)}")


def _port_free(address: str, port: int) -> bool:
    try:
        with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as probe:
            probe.bind((address, port))
    except OSError:
        return False
    return True


def _wait_for_port(port: int, process: subprocess.Popen, root: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (root / "error.log").read_text() if (root / "error.log").exists() else ""
            raise SystemExit(f"nginx exited with {process.returncode}: {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nginx did not listen on 127.0.0.1:{port} within 10 s")

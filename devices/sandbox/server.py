"""Serve the three look-alikes over TLS with hypercorn, in the foreground or in a thread.

Each gateway listens on 127.0.0.1 on its own port ("localhost" in the URLs resolves there),
with the sandbox CA's localhost certificate; APNs offers only h2 in ALPN, FCM and WNS offer h2
and http/1.1. Connections are accepted here rather than by `hypercorn.asyncio.serve` so that
each connection's TLS client certificate reaches the APNs gateway, as the ASGI TLS extension
(`scope["extensions"]["tls"]["client_cert_chain"]`): hypercorn does not pass it on itself. Each
request also carries a dict that lives as long as its connection
(`scope["extensions"]["pushcenter.connection"]`), where the APNs gateway remembers the provider
tokens that connection carried.

Accepting them here also lets the gateways count them and end them as a provider does:

- `connections(provider)` is how many TLS connections that gateway has accepted since it started,
  `open_connections(provider)` how many are open now: tests compare them before and after a
  send to see whether a client reused its connections or opened new ones.
- A push to an APNs device token starting with `c105ed` ("closed") is answered as usual; then,
  once the connection's other streams are answered, the gateway sends GOAWAY (NO_ERROR, last
  stream the highest it answered, debug data `{"reason":"Shutdown"}` as APNs puts a JSON reason
  there) and closes the connection, as APNs does when it shuts a connection down. Streams the
  client opened after that are refused by the GOAWAY and must be sent again elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import DatabaseError
from hypercorn.app_wrappers import ASGIWrapper
from hypercorn.asyncio.tcp_server import TCPServer
from hypercorn.asyncio.worker_context import WorkerContext
from hypercorn.config import Config
from hypercorn.events import RawData

from devices.sandbox.apns import ApnsGateway
from devices.sandbox.certificates import SandboxCertificates, ensure_certificates
from devices.sandbox.directory import ApnsClientCertificate, CredentialDirectory
from devices.sandbox.fcm import FcmGateway
from devices.sandbox.gateway import CONNECTION_EXTENSION, Gateway
from devices.sandbox.recorder import Recorder
from devices.sandbox.wns import WnsGateway

logger = logging.getLogger("devices.sandbox")

BIND_ADDRESS = "127.0.0.1"
HOST = "localhost"
GRACEFUL_SECONDS = 3.0
CERTIFICATE_REFRESH_SECONDS = 10.0
# Apple lets a connection carry many streams at once; so does the sandbox.
MAX_CONCURRENT_STREAMS = 1000
KEEP_ALIVE_SECONDS = 300
MAX_REQUESTS_PER_CONNECTION = 2**62
# A device token starting with this makes the APNs gateway end the connection with GOAWAY.
GOAWAY_PREFIX = "c105ed"
GOAWAY_DEBUG_DATA = b'{"reason":"Shutdown"}'
# How long the GOAWAY waits for the connection's other streams to be answered.
GOAWAY_DRAIN_SECONDS = 5.0


class SandboxGateways:
    """The APNs, FCM and WNS look-alikes, sharing credentials, the record file and TLS files."""

    def __init__(
        self,
        directory: Path,
        credentials: CredentialDirectory,
        *,
        apns_port: int = 0,
        fcm_port: int = 0,
        wns_port: int = 0,
    ) -> None:
        self.directory = Path(directory)
        self.credentials = credentials
        self.certificates: SandboxCertificates = ensure_certificates(self.directory)
        self.recorder = Recorder(self.directory)
        self.apns = ApnsGateway(credentials, self.recorder)
        self.fcm = FcmGateway(credentials, self.recorder)
        self.wns = WnsGateway(credentials, self.recorder)
        self.requested_ports = {"apns": apns_port, "fcm": fcm_port, "wns": wns_port}
        self.ports: dict[str, int] = {}  # the ports listened on, once serving
        self.tally = ConnectionTally()

    def url(self, provider: str) -> str:
        return f"https://{HOST}:{self.ports[provider]}"

    def connections(self, provider: str) -> int:
        """Return how many TLS connections the provider's gateway has accepted so far."""
        return self.tally.accepted(provider)

    def open_connections(self, provider: str) -> int:
        """Return how many of the provider's gateway connections are open now."""
        return self.tally.open(provider)

    def reset(self) -> None:
        """Start flaky targets over and forget verified provider tokens."""
        for gateway in (self.apns, self.fcm, self.wns):
            gateway.reset()

    def expire_access_tokens(self) -> None:
        """Make every FCM and WNS access token issued so far answer 401."""
        self.fcm.expire_access_tokens()
        self.wns.expire_access_tokens()

    async def serve(
        self, shutdown: asyncio.Event, on_ready: Callable[[], None] | None = None
    ) -> None:
        """Listen until `shutdown` is set, then finish open requests for a moment and stop."""
        gateways = {"apns": self.apns, "fcm": self.fcm, "wns": self.wns}
        sockets = _listening_sockets(self.requested_ports)
        self.ports = {name: listening.getsockname()[1] for name, listening in sockets.items()}
        context = WorkerContext(None)
        connections: set[asyncio.Task] = set()
        servers = []
        for name, listening in sockets.items():
            tls = self._tls_context(http2_only=name == "apns", client_certificates=name == "apns")
            servers.append(
                await _accept(
                    _Listener(name, gateways[name], self.tally),
                    listening,
                    tls,
                    _hypercorn_config(),
                    context,
                    connections,
                )
            )
        refresher = asyncio.create_task(self._refresh_certificates())
        if on_ready is not None:
            on_ready()
        try:
            await shutdown.wait()
        finally:
            refresher.cancel()
            await context.terminated.set()
            for server in servers:
                server.close()
            await _finish(connections)

    def _tls_context(self, *, http2_only: bool, client_certificates: bool) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.options |= ssl.OP_NO_COMPRESSION
        context.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
        context.set_alpn_protocols(["h2"] if http2_only else ["h2", "http/1.1"])
        context.load_cert_chain(self.certificates.certificate, self.certificates.key)
        if client_certificates:
            # Ask for a client certificate, and trust exactly the push certificates of
            # certificate-auth credentials: a connection without one is fine (token auth).
            context.verify_mode = ssl.CERT_OPTIONAL
            context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
            self.credentials.on_certificate(_trusting(context))
        return context

    async def _refresh_certificates(self) -> None:
        if not self.credentials.database:
            return
        while True:
            try:
                await self.credentials.refresh_certificates()
            except DatabaseError as error:
                logger.warning("sandbox: cannot read push certificates: %s", error)
            await asyncio.sleep(CERTIFICATE_REFRESH_SECONDS)


class GatewayThread:
    """Run SandboxGateways on an event loop of their own in a daemon thread (for tests)."""

    def __init__(self, gateways: SandboxGateways) -> None:
        self.gateways = gateways
        self._loop: asyncio.AbstractEventLoop | None = None
        self._shutdown: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sandbox-gateways", daemon=True)

    def start(self, timeout: float = 30.0) -> None:
        """Start serving and return once every gateway listens."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the sandbox gateways did not start in time")
        if self._failure is not None:
            raise RuntimeError("the sandbox gateways could not start") from self._failure

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread to end."""
        if self._loop is not None and self._shutdown is not None:
            self._loop.call_soon_threadsafe(self._shutdown.set)
        self._thread.join(timeout)
        self.gateways.credentials.close()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._shutdown = asyncio.Event()
        try:
            await self.gateways.serve(self._shutdown, on_ready=self._ready.set)
        except OSError as error:  # the ports could not be bound
            self._failure = error
            self._ready.set()


def _listening_sockets(ports: dict[str, int]) -> dict[str, socket.socket]:
    """Bind every port or none: a port in use closes the sockets already bound."""
    sockets: dict[str, socket.socket] = {}
    for name, port in ports.items():
        listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sockets[name] = listening
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listening.bind((BIND_ADDRESS, port))
        except OSError as error:
            for opened in sockets.values():
                opened.close()
            raise OSError(
                error.errno,
                f"the {name} gateway cannot listen on {BIND_ADDRESS}:{port}: {error.strerror}",
            ) from error
        listening.listen(128)
        listening.setblocking(False)
    return sockets


def _hypercorn_config() -> Config:
    config = Config()
    config.include_server_header = False
    config.h2_max_concurrent_streams = MAX_CONCURRENT_STREAMS
    config.keep_alive_timeout = KEEP_ALIVE_SECONDS
    # APNs serves a connection for as long as it is used. hypercorn's default (1,000 requests)
    # says GOAWAY with streams in flight and then cannot answer them: a client that keeps its
    # connections across batches would see them time out.
    config.keep_alive_max_requests = MAX_REQUESTS_PER_CONNECTION
    config.graceful_timeout = GRACEFUL_SECONDS
    config.accesslog = None
    config.errorlog = logger
    return config


class ConnectionTally:
    """Count each gateway's accepted and open connections (read from any thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accepted: Counter[str] = Counter()
        self._open: Counter[str] = Counter()

    def opened(self, provider: str) -> None:
        with self._lock:
            self._accepted[provider] += 1
            self._open[provider] += 1

    def closed(self, provider: str) -> None:
        with self._lock:
            self._open[provider] -= 1

    def accepted(self, provider: str) -> int:
        with self._lock:
            return self._accepted[provider]

    def open(self, provider: str) -> int:
        with self._lock:
            return self._open[provider]


class _Listener:
    """What one gateway's accepted connections share: its name, app and tally."""

    def __init__(self, name: str, gateway: Gateway, tally: ConnectionTally) -> None:
        self.name = name
        self.gateway = gateway
        self.tally = tally


async def _accept(
    listener: _Listener,
    listening: socket.socket,
    tls: ssl.SSLContext,
    config: Config,
    context: WorkerContext,
    connections: set[asyncio.Task],
) -> asyncio.Server:
    loop = asyncio.get_running_loop()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connections.add(task)
        task.add_done_callback(connections.discard)
        listener.tally.opened(listener.name)
        app = _with_client_certificate(listener.gateway, writer.get_extra_info("ssl_object"))
        if listener.name == "apns":
            app = _going_away_after(app, lambda: server)
        server = TCPServer(ASGIWrapper(app), loop, config, context, {}, reader, writer)
        try:
            await server
        except ssl.SSLError:
            # The client wrote after our close_notify (a GOAWAY crossed its next streams):
            # the connection is over either way.
            pass
        finally:
            listener.tally.closed(listener.name)

    return await asyncio.start_server(connected, sock=listening, ssl=tls, ssl_handshake_timeout=10)


def _with_client_certificate(gateway: Gateway, ssl_object: ssl.SSLObject | None) -> Any:
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
    # One per connection: APNs judges provider-token updates per connection.
    connection: dict[str, Any] = {}

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope["extensions"] = {
                **(scope.get("extensions") or {}),
                "tls": {"client_cert_chain": chain, "client_cert_error": None},
                CONNECTION_EXTENSION: connection,
            }
        await gateway(scope, receive, send)

    return app


def _going_away_after(app: Any, server_of: Callable[[], TCPServer]) -> Any:
    """Wrap an APNs app so a push to a GOAWAY_PREFIX token ends its connection afterwards."""

    async def going_away(scope: dict, receive: Any, send: Any) -> None:
        await app(scope, receive, send)
        token = scope.get("path", "").rpartition("/")[2].lower()
        if scope["type"] == "http" and token.startswith(GOAWAY_PREFIX):
            # A task of the connection's own would be cancelled with this request's.
            asyncio.get_running_loop().create_task(_go_away(server_of()))

    return going_away


async def _go_away(server: TCPServer) -> None:
    """Send GOAWAY once every stream of the connection is answered, then close it."""
    protocol = server.protocol.protocol
    h2 = getattr(protocol, "connection", None)
    if h2 is None:  # not an HTTP/2 connection
        return
    give_up = time.monotonic() + GOAWAY_DRAIN_SECONDS
    while (protocol.stream_buffers or not protocol.idle) and time.monotonic() < give_up:
        await asyncio.sleep(0.01)
    # No await from the check to the frame: no stream can slip in between unanswered.
    h2.close_connection(error_code=0, additional_data=GOAWAY_DEBUG_DATA)
    await server.protocol_send(RawData(h2.data_to_send()))
    server.writer.close()


def _trusting(context: ssl.SSLContext) -> Callable[[ApnsClientCertificate], None]:
    def trust(certificate: ApnsClientCertificate) -> None:
        context.load_verify_locations(cadata=certificate.pem)

    return trust


async def _finish(connections: set[asyncio.Task]) -> None:
    if not connections:
        return
    _, pending = await asyncio.wait(set(connections), timeout=GRACEFUL_SECONDS)
    for task in pending:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*pending, return_exceptions=True)

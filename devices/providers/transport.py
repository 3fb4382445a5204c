"""Send many HTTP requests at once over a few multiplexed HTTP/2 connections (libcurl via pycurl).

This is the engine of the fan-out, chosen by measurement (``make bench``, bench/providers.py):
against nginx on loopback, one process sends over 10,000 APNs-shaped requests a second through
libcurl's multi interface, several times what aioapns manages and some thirty times httpx. The
per-request work stays in C (libcurl, nghttp2, OpenSSL); Python fills in a pooled easy handle
and reads the answer back. httpx remains the client for low-volume calls (OAuth tokens).

How it behaves:

- HTTP/2 over TLS, negotiated by ALPN; a host without h2 is spoken to in HTTP/1.1.
- At most ``connections_per_host`` connections to a host. Requests wait for an existing
  connection to confirm multiplexing (PIPEWAIT) rather than opening new ones, and each connection
  carries up to ``max_in_flight / connections_per_host`` streams, or fewer if the server's
  SETTINGS say so. Requests beyond that wait in libcurl's queue, where their timeout already
  runs: a host that speaks only HTTP/1.1 serves ``connections_per_host`` requests at a time, so
  give it a smaller batch or more connections.
- Connections stay open between calls to ``perform``; ``close`` ends them. libcurl reuses one
  only while it has been idle less than ``max_idle_seconds`` (CURLOPT_MAXAGE_CONN; libcurl's
  own default is 118 s), and checks it is alive before reuse: a connection the server closed,
  or on which it sent GOAWAY, gets no new streams, and streams the GOAWAY refused are sent
  again on a new connection. What libcurl cannot do from here is keep an idle connection warm:
  HTTP/2 PING is sent only by ``curl_easy_upkeep``, which pycurl (7.49) does not bind.
- The sockets libcurl opens are known to the transport, so a process forked while one was open
  can let go of its copies without a byte reaching the parent's connections
  (``close_inherited``).
- Redirects are never followed (a 301 comes back as a 301); every transfer has a connect timeout
  and a total timeout. A transfer that fails after its status line came (cut short, timed out
  mid-body) still reads status 0: the answer is incomplete.
- TLS is always verified, against the system store and ``ca_bundle`` together. The bundle path
  compiled into the pycurl wheel (a Red Hat path) does not exist on Debian, so the system store
  is found as Python's ``ssl`` finds it (SSL_CERT_FILE / SSL_CERT_DIR honoured; certifi's bundle
  when the system has none). libcurl's CAINFO replaces the default bundle rather than adding to
  it, so ``ca_bundle`` goes in CAINFO and the system's hashed directory in CAPATH, which OpenSSL
  consults as well. Without such a directory, both bundles are concatenated once into a file in
  a private temporary directory, removed on close. Not CAINFO_BLOB: libcurl compares blobs byte
  by byte whenever it looks for a connection to reuse, which made every request slower.
- A client certificate (APNs certificate auth) is handed over in memory as SSLCERT_BLOB /
  SSLKEY_BLOB: the private key is never written to disk.
- Sockets are watched with ``selectors`` (epoll) through libcurl's socket API rather than
  ``CurlMulti.select``, which cannot see descriptors above 1023.
- URLs and headers must be ASCII; one with a line break (header injection) or other text is not
  sent, and its Response says so (status 0, "request not sent: ...").
- Nothing is logged, headers least of all: they carry bearer tokens.

A transport is not thread-safe: one thread at a time may use it (give each worker thread its own).
"""

from __future__ import annotations

import math
import os
import selectors
import shutil
import ssl
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pycurl

from devices.providers.base import ProviderError

__all__ = ["Request", "Response", "Transport"]


@dataclass(frozen=True)
class Request:
    """One HTTP request to send; ``key`` is the caller's id for it."""

    key: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class Response:
    """The answer to one request, or why none came (``status`` 0 and ``error``)."""

    key: str
    status: int
    headers: dict[str, str]
    body: bytes
    error: str = ""
    http_version: str = ""


# How libcurl's error codes read to people; any other code reads "transfer failed".
_TLS_ERRORS = frozenset(
    getattr(pycurl, name)
    for name in (
        "E_SSL_CONNECT_ERROR",
        "E_PEER_FAILED_VERIFICATION",
        "E_SSL_CACERT",
        "E_SSL_CACERT_BADFILE",
        "E_SSL_CERTPROBLEM",
        "E_SSL_CIPHER",
        "E_SSL_ISSUER_ERROR",
        "E_SSL_PINNEDPUBKEYNOTMATCH",
        "E_SSL_INVALIDCERTSTATUS",
        "E_SSL_PEER_CERTIFICATE",
        "E_SSL_ENGINE_INITFAILED",
        "E_USE_SSL_FAILED",
    )
    if hasattr(pycurl, name)
)
_ERROR_PREFIXES = {
    pycurl.E_OPERATION_TIMEDOUT: "timed out",
    pycurl.E_COULDNT_CONNECT: "connection failed",
    pycurl.E_COULDNT_RESOLVE_HOST: "host not found",
    pycurl.E_GOT_NOTHING: "connection closed without an answer",
    pycurl.E_RECV_ERROR: "connection lost while receiving",
    pycurl.E_SEND_ERROR: "connection lost while sending",
    pycurl.E_HTTP2: "HTTP/2 error",
    getattr(pycurl, "E_HTTP2_STREAM", 92): "HTTP/2 stream error",
    pycurl.E_URL_MALFORMAT: "bad URL",
    pycurl.E_UNSUPPORTED_PROTOCOL: "unsupported URL scheme",
    pycurl.E_PARTIAL_FILE: "answer cut short",
}
_HTTP_VERSIONS = {
    pycurl.CURL_HTTP_VERSION_2_0: "2",
    pycurl.CURL_HTTP_VERSION_1_1: "1.1",
    pycurl.CURL_HTTP_VERSION_1_0: "1.0",
}
_SELECTOR_EVENTS = {
    pycurl.POLL_IN: selectors.EVENT_READ,
    pycurl.POLL_OUT: selectors.EVENT_WRITE,
    pycurl.POLL_INOUT: selectors.EVENT_READ | selectors.EVENT_WRITE,
}
# libcurl adds these unless told not to; a request carries only the headers its caller gave.
_SUPPRESSED_DEFAULTS = ("Accept:", "Content-Type:", "Expect:")


class _Slot:
    """A reusable easy handle with the buffers its callbacks fill."""

    __slots__ = ("curl", "header_lines", "body_chunks", "index", "method")

    def __init__(self, curl: pycurl.Curl) -> None:
        self.curl = curl
        self.header_lines: list[bytes] = []
        self.body_chunks: list[bytes] = []
        self.index = -1
        self.method = ""
        curl.setopt(pycurl.HEADERFUNCTION, self.header_lines.append)
        curl.setopt(pycurl.WRITEFUNCTION, self.body_chunks.append)


class Transport:
    """Send batches of requests concurrently over pooled, multiplexed connections."""

    def __init__(
        self,
        *,
        ca_bundle: str = "",
        client_cert: tuple[bytes, bytes] | None = None,
        connections_per_host: int = 4,
        max_in_flight: int = 1000,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        max_idle_seconds: int = 118,
    ) -> None:
        if connections_per_host < 1 or max_in_flight < 1:
            raise ValueError("connections_per_host and max_in_flight must be at least 1")
        self._scratch = ""  # a private directory, only when a combined CA file is needed
        self._trust = self._trust_options(ca_bundle)
        self._client_cert = client_cert
        self._timeout_ms = max(1, round(timeout * 1000))
        self._connect_timeout_ms = max(1, round(connect_timeout * 1000))
        self._max_in_flight = max_in_flight
        self._max_idle_seconds = max_idle_seconds
        # The descriptors of the connections libcurl opened, with their sockets' inode numbers:
        # libcurl closes them without telling us (pycurl cannot run CLOSESOCKETFUNCTION while
        # the multi handle closes), so a descriptor counts as ours only while its inode matches.
        self._sockets: dict[int, int] = {}
        self._idle: list[_Slot] = []
        self._multi = pycurl.CurlMulti()
        self._multi.setopt(pycurl.M_PIPELINING, pycurl.PIPE_MULTIPLEX)
        self._multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, connections_per_host)
        self._multi.setopt(
            pycurl.M_MAX_CONCURRENT_STREAMS, math.ceil(max_in_flight / connections_per_host)
        )
        self._selector = selectors.DefaultSelector()
        self._deadline: float | None = None
        self._multi.setopt(pycurl.M_SOCKETFUNCTION, self._on_socket)
        self._multi.setopt(pycurl.M_TIMERFUNCTION, self._on_timer)
        self._closed = False

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection and free the handles; the transport cannot be used again."""
        if self._closed:
            return
        self._closed = True
        for slot in self._idle:
            slot.curl.close()
        self._idle.clear()
        self._multi.close()
        self._selector.close()
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def close_inherited(self) -> None:
        """Close, in a forked child, a transport the parent made, leaving its connections alone.

        The child's copies of the parent's sockets are pointed at /dev/null first, so what
        libcurl writes while closing (a TLS close_notify, an HTTP/2 GOAWAY) reaches nothing; the
        epoll set, shared with the parent across fork, is not touched; the parent's CA file
        stays.
        """
        null = os.open(os.devnull, os.O_RDWR)
        try:
            for fd in self._open_sockets():
                os.dup2(null, fd)
        finally:
            os.close(null)
        self._selector = selectors.DefaultSelector()
        self._scratch = ""
        self.close()

    def perform(self, requests: Iterable[Request]) -> list[Response]:
        """Send every request concurrently and return their answers in the same order.

        One request's failure (timeout, refused connection, TLS error) is its own Response with
        status 0 and an error; it never raises.
        """
        if self._closed:
            raise ProviderError("the HTTP transport is closed", permanent=True)
        pending = list(requests)
        responses: list[Response | None] = [None] * len(pending)
        busy: dict[pycurl.Curl, _Slot] = {}
        next_index = 0
        try:
            while next_index < len(pending) or busy:
                while next_index < len(pending) and len(busy) < self._max_in_flight:
                    request = pending[next_index]
                    try:
                        slot = self._start(request, next_index)
                    except (ValueError, TypeError, pycurl.error) as error:
                        responses[next_index] = _unsent(request, error)
                    else:
                        busy[slot.curl] = slot
                    next_index += 1
                self._drive()
                for slot, errno, message in self._finished(busy):
                    responses[slot.index] = self._answer(pending[slot.index], slot, errno, message)
                    self._idle.append(slot)
        finally:
            # Only an interrupt gets here with transfers still running: leave no handle behind.
            for slot in busy.values():
                self._multi.remove_handle(slot.curl)
                slot.header_lines.clear()
                slot.body_chunks.clear()
                self._idle.append(slot)
        return responses  # type: ignore[return-value]  # every index was filled

    def _start(self, request: Request, index: int) -> _Slot:
        """Fill a pooled handle with ``request`` and add it to libcurl; ValueError if unsendable."""
        headers = _header_lines(request.headers)
        slot = self._idle.pop() if self._idle else self._new_slot()
        try:
            curl = slot.curl
            curl.setopt(pycurl.URL, request.url)
            self._set_method(slot, request)
            curl.setopt(pycurl.HTTPHEADER, headers)
            self._multi.add_handle(curl)
        except BaseException:
            self._idle.append(slot)
            raise
        slot.index = index
        return slot

    def _set_method(self, slot: _Slot, request: Request) -> None:
        curl, method = slot.curl, request.method.upper()
        if method == "GET" and not request.body:
            if slot.method != "GET":
                curl.setopt(pycurl.HTTPGET, 1)
                curl.setopt(pycurl.CUSTOMREQUEST, None)
        else:
            # POSTFIELDS makes a POST carrying exactly these bytes (no chunking, no Expect);
            # CUSTOMREQUEST renames the verb for PUT, PATCH, DELETE.
            curl.setopt(pycurl.POSTFIELDS, request.body)
            if method != slot.method:
                curl.setopt(pycurl.CUSTOMREQUEST, None if method == "POST" else method)
        slot.method = method

    def _drive(self) -> None:
        """Wait for a socket or libcurl's timer, then let libcurl move those transfers forward."""
        multi = self._multi
        wait = 1.0 if self._deadline is None else self._deadline - time.monotonic()
        ready = self._selector.select(min(max(wait, 0.0), 1.0))
        if self._deadline is not None and time.monotonic() >= self._deadline:
            self._deadline = None
            multi.socket_action(pycurl.SOCKET_TIMEOUT, 0)
        for key, mask in ready:
            flags = (pycurl.CSELECT_IN if mask & selectors.EVENT_READ else 0) | (
                pycurl.CSELECT_OUT if mask & selectors.EVENT_WRITE else 0
            )
            multi.socket_action(key.fd, flags)

    def _on_socket(self, what: int, fd: int, multi: object, data: object) -> None:
        """Watch a socket for what libcurl waits on, or stop (POLL_REMOVE) (M_SOCKETFUNCTION)."""
        selector = self._selector
        events = _SELECTOR_EVENTS.get(what, 0)
        if not events:
            if fd in selector.get_map():
                selector.unregister(fd)
        elif fd in selector.get_map():
            selector.modify(fd, events)
        else:
            selector.register(fd, events)

    def _on_timer(self, timeout_ms: int) -> None:
        """Remember when libcurl wants to be called back (M_TIMERFUNCTION); -1 cancels."""
        self._deadline = None if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000

    def _on_socket_opened(self, fd: int, purpose: int) -> int:
        """Remember a new connection's socket (SOCKOPTFUNCTION), forgetting closed ones."""
        self._sockets = {known: self._sockets[known] for known in self._open_sockets()}
        self._sockets[fd] = os.fstat(fd).st_ino
        return pycurl.SOCKOPT_OK

    def _open_sockets(self) -> list[int]:
        """Return the descriptors that are still the sockets libcurl opened."""
        still = []
        for fd, inode in self._sockets.items():
            try:
                same = os.fstat(fd).st_ino == inode
            except OSError:  # closed, and not reused
                same = False
            if same:
                still.append(fd)
        return still

    def _finished(self, busy: dict[pycurl.Curl, _Slot]) -> list[tuple[_Slot, int, str]]:
        done: list[tuple[_Slot, int, str]] = []
        while True:
            queued, succeeded, failed = self._multi.info_read()
            for curl in succeeded:
                done.append((busy.pop(curl), 0, ""))
            for curl, errno, message in failed:
                done.append((busy.pop(curl), errno, message))
            if not queued:
                break
        for slot, _, _ in done:
            self._multi.remove_handle(slot.curl)
        return done

    def _answer(self, request: Request, slot: _Slot, errno: int, message: str) -> Response:
        curl = slot.curl
        version = _HTTP_VERSIONS.get(curl.getinfo(pycurl.INFO_HTTP_VERSION), "")
        if errno:
            response = Response(
                key=request.key,
                status=0,
                headers={},
                body=b"",
                error=_describe_error(errno, message),
                http_version=version,
            )
        else:
            response = Response(
                key=request.key,
                status=curl.getinfo(pycurl.RESPONSE_CODE),
                headers=_parse_headers(slot.header_lines),
                body=b"".join(slot.body_chunks),
                http_version=version,
            )
        slot.header_lines.clear()
        slot.body_chunks.clear()
        return response

    def _trust_options(self, ca_bundle: str) -> list[tuple[int, str]]:
        """Return the CAINFO / CAPATH options that trust the system store and ``ca_bundle``.

        Paths, not CAINFO_BLOB: libcurl compares a blob byte for byte with each connection's
        whenever it looks for one to reuse, which costs more than the request for a 200 KB bundle.
        """
        system_file, system_dir = _system_store()
        if ca_bundle and not os.path.isfile(ca_bundle):
            raise ProviderError(f"the CA bundle {ca_bundle} is not a readable file", permanent=True)
        if ca_bundle and system_dir:
            return [(pycurl.CAINFO, ca_bundle), (pycurl.CAPATH, system_dir)]
        if ca_bundle and system_file:
            return [(pycurl.CAINFO, self._combined_bundle(system_file, ca_bundle))]
        if ca_bundle:
            return [(pycurl.CAINFO, ca_bundle)]
        if not (system_file or system_dir):
            raise ProviderError(
                "no trusted CA certificates: install the system bundle (ca-certificates) "
                "or set PUSHCENTER_CA_BUNDLE",
                permanent=True,
            )
        options = [(pycurl.CAINFO, system_file)] if system_file else []
        return options + ([(pycurl.CAPATH, system_dir)] if system_dir else [])

    def _combined_bundle(self, *sources: str) -> str:
        """Write the certificates of ``sources`` into one file of our own, removed on close."""
        self._scratch = tempfile.mkdtemp(prefix="pushcenter-ca-")  # mode 0700
        combined = os.path.join(self._scratch, "trusted.pem")
        with open(combined, "wb") as target:
            for source in sources:
                target.write(Path(source).read_bytes().rstrip() + b"\n")
        return combined

    def _new_slot(self) -> _Slot:
        curl = pycurl.Curl()
        for option, value in (
            (pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2TLS),
            (pycurl.PIPEWAIT, 1),
            (pycurl.FOLLOWLOCATION, 0),
            (pycurl.NOSIGNAL, 1),
            (pycurl.TIMEOUT_MS, self._timeout_ms),
            (pycurl.CONNECTTIMEOUT_MS, self._connect_timeout_ms),
            (pycurl.SSL_VERIFYPEER, 1),
            (pycurl.SSL_VERIFYHOST, 2),
            *self._trust,
            (pycurl.PROTOCOLS, pycurl.PROTO_HTTPS | pycurl.PROTO_HTTP),
            (pycurl.TCP_NODELAY, 1),
            (pycurl.MAXAGE_CONN, self._max_idle_seconds),
            (pycurl.SOCKOPTFUNCTION, self._on_socket_opened),
        ):
            curl.setopt(option, value)
        if self._client_cert is not None:
            certificate, key = self._client_cert
            curl.setopt(pycurl.SSLCERTTYPE, "PEM")
            curl.setopt(pycurl.SSLCERT_BLOB, certificate)
            curl.setopt(pycurl.SSLKEYTYPE, "PEM")
            curl.setopt(pycurl.SSLKEY_BLOB, key)
        return _Slot(curl)


def _header_lines(headers: dict[str, str]) -> list[str]:
    lines = [f"{name}: {value}" for name, value in headers.items()]
    joined = "".join(lines)
    if "\n" in joined or "\r" in joined:
        # A line break would end the header and start another: header injection on HTTP/1.1.
        raise ValueError("a header name or value contains a line break")
    # "Name:" only stops libcurl adding its own; a value the caller gave is still sent.
    lines.extend(_SUPPRESSED_DEFAULTS)
    return lines


def _parse_headers(lines: list[bytes]) -> dict[str, str]:
    block = b"".join(lines).decode("latin-1")
    # An interim answer (100, 103) comes first, ended by a blank line: keep the final block.
    final = block.rfind("\r\n\r\nHTTP/")
    if final >= 0:
        block = block[final + 4 :]
    headers = {}
    for line in block.split("\r\n")[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers


def _unsent(request: Request, error: Exception) -> Response:
    # pycurl takes URLs and headers as ASCII; its UnicodeEncodeError is a ValueError.
    reason = "the URL or a header is not ASCII" if isinstance(error, UnicodeError) else str(error)
    return Response(
        key=request.key, status=0, headers={}, body=b"", error=f"request not sent: {reason}"
    )


def _describe_error(errno: int, message: str) -> str:
    if errno in _TLS_ERRORS:
        prefix = "TLS handshake failed"
    else:
        prefix = _ERROR_PREFIXES.get(errno, "transfer failed")
    return f"{prefix}: {message or 'no detail'} (curl error {errno})"


def _system_store() -> tuple[str, str]:
    """Return the system's CA file and hashed CA directory, as Python's ``ssl`` finds them."""
    paths = ssl.get_default_verify_paths()
    files = [os.environ.get(paths.openssl_cafile_env), paths.cafile, paths.openssl_cafile]
    dirs = [os.environ.get(paths.openssl_capath_env), paths.capath, paths.openssl_capath]
    system_file = next((path for path in files if path and os.path.isfile(path)), "")
    system_dir = next((path for path in dirs if path and os.path.isdir(path)), "")
    if not (system_file or system_dir):
        try:
            import certifi
        except ImportError:
            pass
        else:
            system_file = certifi.where()
    return system_file, system_dir

"""Keep each process's connections to the push services open across batches and notifications.

Apple asks providers to "keep your connections with APNs open across multiple notifications;
don't repeatedly open and close connections": APNs treats rapid connection and disconnection
as a denial-of-service attack, and a connection may be checked with an HTTP/2 PING while idle
("Sending notification requests to APNs", developer.apple.com/documentation/usernotifications/
sending-notification-requests-to-apns). A batch used to make a client, and so new TLS
connections, and close them: a big send opened and closed connections every thousand devices.

Here a process keeps one pool of transports (devices.providers.transport), one per credential
and provider, each with its few multiplexed connections. `transport_for` gives a client a
`PooledTransport`, which borrows the pool's transport for the length of each `perform` and gives
it back; the client's `close` leaves it open. Two threads sending for one credential at once
borrow two transports; a transport is never used by two threads.

When the pool lets a transport go:

- idle: a transport unused for settings.PROVIDER_IDLE_SECONDS is closed the next time the pool
  is used (the process has no timer of its own; one that sends nothing more keeps its sockets
  until it exits or the provider closes them). libcurl's own limit on reusing an idle
  connection (CURLOPT_MAXAGE_CONN) is set to the same time, not its default 118 s.
- replaced: the key holds the credential's version (its stored secret and when it was last
  saved) and settings.CA_BUNDLE. A credential changed in the dashboard, or a new certificate,
  gets a new transport, and the idle ones of its older versions are closed then; one still
  lent out is closed when it comes back. A credential deleted in this process closes its
  transports at once; in another process they go when idle.
- more than MAX_IDLE_TRANSPORTS idle transports: the least recently used go first.
- fork: a child (a Celery prefork child, or a worker recycled after max-tasks-per-child)
  starts with an empty pool. It closes what it inherited without writing to the parent's
  sockets (Transport.close_inherited) and makes its own connections.

What the pool cannot do: send HTTP/2 PING on an idle connection. libcurl sends PING only from
curl_easy_upkeep, which pycurl 7.49 does not bind (no Curl.upkeep, no UPKEEP_INTERVAL_MS), so an
idle connection is not kept warm; libcurl checks one is alive before reusing it instead. A
GOAWAY is honoured by libcurl itself: no new streams on that connection, refused streams sent
again on a new one. Its debug data (where APNs puts a JSON reason) is not exposed by libcurl:
only its error code, and only as verbose text; a push cut short by it reads libcurl's error
message, which the client keeps as the Result's detail.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings

from devices.providers import apns
from devices.providers.base import Credential
from devices.providers.transport import Request, Response, Transport

__all__ = ["PooledTransport", "TransportPool", "pool", "transport_for"]

# Beyond this many idle transports the least recently used are closed: each holds sockets, and
# a deployment with many apps should not keep one per app it sent to in the last minutes.
MAX_IDLE_TRANSPORTS = 64


@dataclass(frozen=True)
class PoolKey:
    """Which transport a client may share: whose credential, which version of it, which CAs."""

    credential: str  # the credential's identity: "ApnsCredential:3"
    version: str  # a digest of the credential's version and the CA bundle


@dataclass
class _Idle:
    transport: Transport
    since: float  # time.monotonic() when it was given back


class TransportPool:
    """Lend transports by key to one thread at a time; close the idle and the replaced."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[PoolKey, list[_Idle]] = {}
        self._current: dict[str, str] = {}  # credential → version
        self._generation = 0  # a new one after fork: what a parent lent is not given back

    def borrow(self, key: PoolKey, make: Callable[[], Transport]) -> Transport:
        """Return an idle transport of ``key``, or a new one from ``make``; give it back after."""
        with self._lock:
            stale = self._retire_versions_other_than(key) + self._expired(time.monotonic())
            kept = self._idle.get(key)
            transport = kept.pop().transport if kept else None
        _close(stale)
        return transport if transport is not None else make()

    def give_back(self, key: PoolKey, transport: Transport, generation: int) -> None:
        """Keep a borrowed transport for the next borrower, or close it if it is outdated."""
        with self._lock:
            current = self._current.get(key.credential) == key.version
            if generation == self._generation and current:
                self._idle.setdefault(key, []).append(_Idle(transport, time.monotonic()))
                transport = None
            stale = self._over_limit()
        _close(stale if transport is None else [transport, *stale])

    @property
    def generation(self) -> int:
        return self._generation

    def forget(self, credential: str) -> None:
        """Close the idle transports of a credential that is gone (by its identity)."""
        with self._lock:
            self._current.pop(credential, None)
            stale = self._take(lambda key: key.credential == credential)
        _close(stale)

    def close_all(self) -> None:
        """Close every idle transport (tests, and a process that stops sending)."""
        with self._lock:
            self._current.clear()
            stale = self._take(lambda key: True)
        _close(stale)

    def idle_count(self) -> int:
        with self._lock:
            return sum(len(entries) for entries in self._idle.values())

    def after_fork_in_child(self) -> None:
        """Start the child's pool empty, closing what it inherited without touching the parent's
        connections (os.register_at_fork)."""
        # A thread of the parent may have held the lock at the fork: the child gets its own.
        self._lock = threading.Lock()
        inherited = [entry.transport for entries in self._idle.values() for entry in entries]
        self._idle.clear()
        self._current.clear()
        self._generation += 1
        for transport in inherited:
            transport.close_inherited()

    def _retire_versions_other_than(self, key: PoolKey) -> list[Transport]:
        if self._current.get(key.credential) == key.version:
            return []
        self._current[key.credential] = key.version
        return self._take(lambda other: other.credential == key.credential and other != key)

    def _expired(self, now: float) -> list[Transport]:
        idle_seconds = settings.PROVIDER_IDLE_SECONDS
        expired = []
        for key, entries in list(self._idle.items()):
            self._keep(key, [entry for entry in entries if now - entry.since < idle_seconds])
            expired += [entry.transport for entry in entries if now - entry.since >= idle_seconds]
        return expired

    def _over_limit(self) -> list[Transport]:
        entries = sorted(
            ((entry.since, key, entry) for key, each in self._idle.items() for entry in each),
            key=lambda item: item[0],
        )
        surplus = entries[: max(0, len(entries) - MAX_IDLE_TRANSPORTS)]
        for _, key, entry in surplus:
            self._keep(key, [kept for kept in self._idle[key] if kept is not entry])
        return [entry.transport for _, _, entry in surplus]

    def _take(self, matches: Callable[[PoolKey], bool]) -> list[Transport]:
        taken = []
        for key in [key for key in self._idle if matches(key)]:
            taken += [entry.transport for entry in self._idle.pop(key)]
        return taken

    def _keep(self, key: PoolKey, entries: list[_Idle]) -> None:
        if entries:
            self._idle[key] = entries
        else:
            self._idle.pop(key, None)


def _close(transports: list[Transport]) -> None:
    # Outside the lock: closing a connection politely (TLS close_notify) may take a moment.
    for transport in transports:
        transport.close()


class PooledTransport:
    """What a client is given instead of its own transport: each ``perform`` borrows the pool's.

    ``close`` does nothing: the connections belong to the pool, not to the client.
    """

    def __init__(self, pool: TransportPool, key: PoolKey, make: Callable[[], Transport]) -> None:
        self._pool = pool
        self._key = key
        self._make = make

    def perform(self, requests: Iterable[Request]) -> list[Response]:
        generation = self._pool.generation
        transport = self._pool.borrow(self._key, self._make)
        try:
            return transport.perform(requests)
        finally:
            self._pool.give_back(self._key, transport, generation)

    def close(self) -> None:
        """Leave the connections open in the pool."""


pool = TransportPool()
os.register_at_fork(after_in_child=pool.after_fork_in_child)


def transport_for(credential: Credential) -> PooledTransport:
    """Return the process's shared transport for a credential's pushes."""
    key = key_for(credential)

    def make() -> Transport:
        return Transport(
            ca_bundle=settings.CA_BUNDLE,
            client_cert=_client_certificate(credential),
            max_idle_seconds=settings.PROVIDER_IDLE_SECONDS,
        )

    return PooledTransport(pool, key, make)


def key_for(credential: Credential) -> PoolKey:
    """Return the pool key of a credential as it is now."""
    version = "\n".join((credential.version, settings.CA_BUNDLE))
    return PoolKey(credential.identity, hashlib.sha256(version.encode()).hexdigest())


def _client_certificate(credential: Credential) -> tuple[bytes, bytes] | None:
    """The TLS client certificate of an APNs certificate credential, else None."""
    if isinstance(credential, apns.ApnsCertificate):
        return apns.client_certificate(credential)
    return None

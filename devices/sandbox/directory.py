"""Find what the gateways check requests against: the public half of each app's credentials.

Two sources, both optional:
- credentials *registered* with `CredentialDirectory.register` (the test fixture does this: a
  test's rows sit in its own open transaction, which the gateways' connection cannot see);
- the *database*, read through the Django models on one worker thread (the management command
  and `make demo`), cached per key for CACHE_SECONDS and re-read early, at most once a second,
  when a signature fails against the cached key — so a key replaced in the dashboard works at
  once.

Only public material is kept: an APNs key's public key, a push certificate, a service
account's public key, and a SHA-256 digest of a WNS client secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from django.db import close_old_connections, connections

from devices.encryption import DecryptionError
from devices.models import ApnsCredential, FcmCredential, MobileApp, WnsCredential

logger = logging.getLogger(__name__)

CACHE_SECONDS = 30.0
REFRESH_AT_MOST_EVERY = 1.0


@dataclass(frozen=True)
class ApnsSigningKey:
    key_id: str
    team_id: str
    bundle_id: str
    public_key: ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class ApnsClientCertificate:
    fingerprint: str  # SHA-256 of the DER certificate, hex
    pem: str
    bundle_id: str


@dataclass(frozen=True)
class ServiceAccountKey:
    client_email: str
    project_id: str
    public_key: rsa.RSAPublicKey


@dataclass(frozen=True)
class WnsClientSecret:
    tenant_id: str
    client_id: str
    digest: bytes  # SHA-256 of the client secret
    package_sid: str = ""  # set for the Package SID flow, whose credentials have no tenant


Entry = ApnsSigningKey | ApnsClientCertificate | ServiceAccountKey | WnsClientSecret
Credential = ApnsCredential | FcmCredential | WnsCredential
E = TypeVar("E", bound=Entry)


def secret_digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def certificate_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def public_entries(credential: Credential) -> list[Entry]:
    """Return what the gateways need of a credential; nothing secret survives this call."""
    try:
        secret = credential.read_secret()
        if isinstance(credential, ApnsCredential):
            return [_apns_entry(credential, secret)]
        if isinstance(credential, FcmCredential):
            return _service_account_entries(credential, secret)
        digest = secret_digest(secret["client_secret"])
        if credential.auth_flow == WnsCredential.AuthFlow.PACKAGE_SID:
            return [WnsClientSecret("", "", digest, credential.package_sid)]
        return [WnsClientSecret(credential.tenant_id, credential.client_id, digest)]
    except (DecryptionError, KeyError, ValueError, TypeError) as error:
        # Say which credential and why, never what the secret holds.
        logger.warning("sandbox: %s cannot be used: %s", credential, type(error).__name__)
        return []


def _apns_entry(credential: ApnsCredential, secret: dict[str, str]) -> Entry:
    if credential.auth_method == ApnsCredential.AuthMethod.CERTIFICATE:
        password = secret.get("certificate_password") or ""
        _, certificate, _ = pkcs12.load_key_and_certificates(
            bytes.fromhex(secret["certificate_p12"]), password.encode() or None
        )
        if certificate is None:
            raise ValueError("no certificate in the .p12")
        der = certificate.public_bytes(serialization.Encoding.DER)
        return ApnsClientCertificate(
            certificate_fingerprint(der),
            certificate.public_bytes(serialization.Encoding.PEM).decode(),
            credential.bundle_id,
        )
    key = serialization.load_pem_private_key(secret["signing_key"].encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("not an EC key")
    return ApnsSigningKey(
        credential.key_id, credential.team_id, credential.bundle_id, key.public_key()
    )


def _service_account_entries(credential: FcmCredential, secret: dict[str, str]) -> list[Entry]:
    account = json.loads(secret["service_account"])
    key = serialization.load_pem_private_key(account["private_key"].encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("not an RSA key")
    # The row's fields and the JSON's agree when saved through the form; a client may sign with
    # either, so a registered credential answers to both.
    emails = dict.fromkeys([credential.client_email, account.get("client_email")])
    projects = dict.fromkeys([credential.project_id, account.get("project_id")])
    return [
        ServiceAccountKey(email, project, key.public_key())
        for email in emails
        if email
        for project in projects
        if project
    ]


class CredentialDirectory:
    """Answer the gateways' questions about keys, from registrations and optionally the database."""

    def __init__(self, *, database: bool) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._registered: dict[tuple[str, object], list[Entry]] = {}
        self._cache: dict[tuple[str, ...], tuple[float, list[Entry]]] = {}
        self._known_certificates: set[str] = set()
        self._certificate_listeners: list[Callable[[ApnsClientCertificate], None]] = []
        self._executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-database")
            if database
            else None
        )

    # Registration (tests) ------------------------------------------------------------------

    def register(self, *things: Credential | MobileApp) -> None:
        """Make credentials known, given as credential rows or as apps (all their credentials).

        Registering a credential again replaces what its earlier registration said.
        """
        for credential in _credentials_of(things):
            entries = public_entries(credential)
            source = (type(credential).__name__, credential.pk or id(credential))
            with self._lock:
                self._registered[source] = entries
            self._announce_certificates(entries)

    def forget_registered(self) -> None:
        """Forget every registered credential (the fixture does this between tests)."""
        with self._lock:
            self._registered.clear()

    # Questions the gateways ask ------------------------------------------------------------

    async def apns_signing_keys(
        self, key_id: str, team_id: str, *, fresh: bool = False
    ) -> list[ApnsSigningKey]:
        return await self._find(
            ApnsSigningKey,
            ("apns-key", key_id, team_id),
            lambda e: e.key_id == key_id and e.team_id == team_id,
            lambda: _load(
                ApnsCredential.objects.filter(
                    auth_method=ApnsCredential.AuthMethod.TOKEN, key_id=key_id, team_id=team_id
                )
            ),
            fresh,
        )

    async def apns_certificates(self, fingerprint: str) -> list[ApnsClientCertificate]:
        # The TLS handshake admitted only certificates already announced, so no database trip.
        return self._registered_entries(
            ApnsClientCertificate, lambda e: e.fingerprint == fingerprint
        ) + [
            e
            for e in self._cached_entries(("apns-certificates",))
            if isinstance(e, ApnsClientCertificate) and e.fingerprint == fingerprint
        ]

    async def service_account_keys(
        self, client_email: str, *, fresh: bool = False
    ) -> list[ServiceAccountKey]:
        return await self._find(
            ServiceAccountKey,
            ("fcm", client_email),
            lambda e: e.client_email == client_email,
            lambda: _load(FcmCredential.objects.filter(client_email=client_email)),
            fresh,
        )

    async def wns_client_secrets(
        self, tenant_id: str, client_id: str, *, fresh: bool = False
    ) -> list[WnsClientSecret]:
        return await self._find(
            WnsClientSecret,
            ("wns", tenant_id, client_id),
            lambda e: (
                e.tenant_id.lower() == tenant_id.lower()
                and e.client_id.lower() == client_id.lower()
            ),
            lambda: _load(
                WnsCredential.objects.filter(
                    tenant_id__iexact=tenant_id, client_id__iexact=client_id
                )
            ),
            fresh,
        )

    async def wns_package_secrets(
        self, package_sid: str, *, fresh: bool = False
    ) -> list[WnsClientSecret]:
        return await self._find(
            WnsClientSecret,
            ("wns-package", package_sid),
            lambda e: bool(e.package_sid) and e.package_sid.lower() == package_sid.lower(),
            lambda: _load(
                WnsCredential.objects.filter(
                    auth_flow=WnsCredential.AuthFlow.PACKAGE_SID, package_sid__iexact=package_sid
                )
            ),
            fresh,
        )

    async def wns_tenant_known(self, tenant_id: str) -> bool:
        registered = self._registered_entries(
            WnsClientSecret, lambda e: e.tenant_id.lower() == tenant_id.lower()
        )
        if registered or not self.database:
            return bool(registered)
        query = WnsCredential.objects.filter(tenant_id__iexact=tenant_id)
        return await self._on_database_thread(query.exists)

    # Client certificates for the APNs TLS handshake ----------------------------------------

    def on_certificate(self, listener: Callable[[ApnsClientCertificate], None]) -> None:
        """Call `listener` with every push certificate known now and each one learnt later."""
        self._certificate_listeners.append(listener)
        for entry in self._registered_entries(ApnsClientCertificate, lambda e: True):
            listener(entry)
        for entry in self._cached_entries(("apns-certificates",)):
            if isinstance(entry, ApnsClientCertificate):
                listener(entry)

    async def refresh_certificates(self) -> None:
        """Read the certificate-auth credentials from the database and announce new ones."""
        if not self.database:
            return
        query = ApnsCredential.objects.filter(auth_method=ApnsCredential.AuthMethod.CERTIFICATE)
        entries = await self._on_database_thread(lambda: _load(query))
        with self._lock:
            self._cache[("apns-certificates",)] = (time.monotonic(), entries)
        self._announce_certificates(entries)

    def close(self) -> None:
        """Close the database thread's connection (a test database cannot be dropped while open)."""
        if self._executor is not None:
            self._executor.submit(connections.close_all).result()
            self._executor.shutdown()
            self._executor = None

    # Internals -------------------------------------------------------------------------------

    async def _find(
        self,
        kind: type[E],
        cache_key: tuple[str, ...],
        match: Callable[[Any], bool],
        load: Callable[[], list[Entry]],
        fresh: bool,
    ) -> list[E]:
        found = self._registered_entries(kind, match)
        if not self.database:
            return found
        with self._lock:
            loaded_at, entries = self._cache.get(cache_key, (-CACHE_SECONDS, []))
        age = time.monotonic() - loaded_at
        if age > CACHE_SECONDS or (fresh and age > REFRESH_AT_MOST_EVERY):
            entries = await self._on_database_thread(load)
            with self._lock:
                self._cache[cache_key] = (time.monotonic(), entries)
        return found + [e for e in entries if isinstance(e, kind) and match(e)]

    def _registered_entries(self, kind: type[E], match: Callable[[Any], bool]) -> list[E]:
        with self._lock:
            everything = [e for entries in self._registered.values() for e in entries]
        return [e for e in everything if isinstance(e, kind) and match(e)]

    def _cached_entries(self, cache_key: tuple[str, ...]) -> list[Entry]:
        with self._lock:
            return list(self._cache.get(cache_key, (0.0, []))[1])

    def _announce_certificates(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            if not isinstance(entry, ApnsClientCertificate):
                continue
            with self._lock:
                new = entry.fingerprint not in self._known_certificates
                self._known_certificates.add(entry.fingerprint)
            if new:
                for listener in self._certificate_listeners:
                    listener(entry)

    async def _on_database_thread(self, work: Callable[[], Any]) -> Any:
        assert self._executor is not None
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, _with_fresh_connection, work
        )


def _with_fresh_connection(work: Callable[[], Any]) -> Any:
    # A long-running gateway outlives connections (CONN_MAX_AGE, a restarted server).
    close_old_connections()
    try:
        return work()
    finally:
        close_old_connections()


def _load(credentials: Iterable[Credential]) -> list[Entry]:
    return [entry for credential in credentials for entry in public_entries(credential)]


def _credentials_of(things: Iterable[Credential | MobileApp]) -> list[Credential]:
    credentials: list[Credential] = []
    for thing in things:
        if isinstance(thing, MobileApp):
            for relation in ("apns_credential", "fcm_credential", "wns_credential"):
                credential = getattr(thing, relation, None)
                if credential is not None:
                    credentials.append(credential)
        else:
            credentials.append(thing)
    return credentials

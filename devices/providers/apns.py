"""Send to Apple devices through the Apple Push Notification service (APNs).

One request per device (``POST {APNS_*_URL}/3/device/{token}``), all of a batch in flight at once
over the HTTP/2 transport: a few TLS connections to Apple, many concurrent streams each. Apple
speaks HTTP/2 only; an answer that comes back in another version did not come from APNs (a
proxy, a wrong URL) and is not trusted, whatever its status.

The host is ``settings.APNS_PRODUCTION_URL`` or ``settings.APNS_DEVELOPMENT_URL``, by the
credential's environment. Two ways to authenticate, by the kind of credential the client is
given (its secret already decrypted, made by the app's stored credential):

- token (``ApnsKey``): an ES256 provider JWT (header ``kid`` = the Key ID, claims ``iss`` = the
  Team ID and ``iat``, never in the future) signed with the .p8 key, sent as
  ``authorization: bearer <jwt>``.
  Apple's "Establishing a token-based connection to APNs": refresh a token no more often than
  once every 20 minutes and no less than once every 60; a token whose iat is over an hour old
  is refused (ExpiredProviderToken), and one replaced too often answers 429
  TooManyProviderTokenUpdates. So the process keeps one token per (Team ID, Key ID, key),
  shared by every app (credential) and client that signs with that key, and replaces it once
  it is 50 minutes old. A token Apple refuses (403 ExpiredProviderToken or
  InvalidProviderToken) is replaced, and the refused pushes sent once more, only when it is at
  least 20 minutes old; a younger one is kept and the refused pushes are AUTH_FAILED with
  Apple's reason and a detail saying when the token may be replaced. A second refusal is
  AUTH_FAILED too.
- certificate (``ApnsCertificate``): TLS client authentication with the .p12's certificate and
  key, converted to PEM in memory and handed to the transport (which never writes the key to
  disk).

Headers: ``apns-topic`` is the credential's bundle ID; the renderer's ``apns-push-type``,
``apns-priority``, ``apns-expiration`` and ``apns-collapse-id`` pass through as given;
``apns-id`` is the push's key when that is a canonical UUID, so Apple's logs and ours agree.

How APNs's answers are classified (Apple's "Handling notification responses from APNs"; the
``reason`` of the JSON body decides, else the status):

=============================== ====== ============== =========================================
reason                          status outcome        why
=============================== ====== ============== =========================================
(none)                          200    SENT           provider_id is the apns-id answered
BadDeviceToken                  400    DEVICE_GONE    not a token of this app and environment
DeviceTokenNotForTopic          400    DEVICE_GONE    the token belongs to another app
Unregistered, ExpiredToken      410    DEVICE_GONE    app uninstalled; detail says since when
BadTopic, TopicDisallowed,      400    MESSAGE_FAILED the credential's bundle ID or the
MissingTopic                                          renderer's headers are wrong: the same
BadCollapseId, BadExpirationDate,                     message can never succeed, the device
BadMessageId, BadPriority,                            may well be fine
BadPath, PayloadEmpty,
DuplicateHeaders, InvalidPushType,
MissingDeviceToken
PayloadTooLarge                 413    MESSAGE_FAILED over 4 KB (5 KB for VoIP)
MethodNotAllowed                405    MESSAGE_FAILED
BadCertificate,                 403    AUTH_FAILED    the certificate or key is refused
BadCertificateEnvironment,
Forbidden, MissingProviderToken
ExpiredProviderToken,           403    AUTH_FAILED    after one new token and one resend when
InvalidProviderToken                                  the token is 20+ minutes old, else at once
TooManyRequests                 429    DEVICE_RETRY   too many pushes to one device: retried,
                                                      never counted against APNs
TooManyProviderTokenUpdates     429    RETRY
IdleTimeout                     400    RETRY          the connection idled out: send again
InternalServerError             500    RETRY
ServiceUnavailable, Shutdown    503    RETRY
(no answer)                     0      RETRY          timeout, connection or TLS error, as text
(not over HTTP/2)               any    RETRY          not APNs: fix the URL, then it can succeed
other reason                    2xx    SENT           by status class
other reason                    410    DEVICE_GONE
other reason                    401,   AUTH_FAILED
                                403
other reason                    429,   RETRY          Retry-After honoured when present
                                5xx
other reason                    4xx    MESSAGE_FAILED
=============================== ====== ============== =========================================

``send`` raises ProviderError (permanent) only before any push left: a credential without a
usable key, Key ID or Team ID, a .p12 that does not open or has expired, no bundle ID. Once
pushes have left, every push gets a Result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings

from devices.providers.base import (
    RETRIED,
    AddressGone,
    Credential,
    Outcome,
    Provider,
    ProviderError,
    Push,
    Result,
    retry_after,
)
from devices.providers.message import (
    Message,
    Payload,
    custom_data,
    refuse_empty,
    refuse_tile,
    without_empty,
)
from devices.providers.transport import Request, Response, Transport

__all__ = [
    "ApnsCertificate",
    "ApnsClient",
    "ApnsKey",
    "classify",
    "client_certificate",
    "unreadable_certificate",
    "unreadable_key",
]

# Apple, "Establishing a token-based connection to APNs": refresh a provider token no more often
# than once every 20 minutes and no less than once every 60 (an iat over an hour old is
# ExpiredProviderToken; "Handling notification responses from APNs": a token updated too often
# is 429 TooManyProviderTokenUpdates).
TOKEN_REFRESH_AFTER = 50 * 60  # seconds: renew a token this old before using it again
TOKEN_REPLACE_NOT_BEFORE = 20 * 60  # seconds: never a new token for a key sooner, refused or not
# validate() pushes to this made-up device token: well-formed (64 hex digits) but issued to no
# device, so APNs authenticates the request and then refuses only the token (BadDeviceToken;
# the sandbox gateway answers tokens starting "bad0" the same way).
VALIDATION_TOKEN = "bad0" + "5e1f" * 15
VALIDATION_BODY = b'{"aps":{"content-available":1}}'
VALIDATION_HEADERS = {"apns-push-type": "background", "apns-priority": "5", "apns-expiration": "0"}
# A refusal of these reasons for the made-up token proves the credentials were accepted.
PROOF_REASONS = frozenset({"BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic"})
TOKEN_REFUSALS = frozenset({"ExpiredProviderToken", "InvalidProviderToken"})

# The table above, for the reasons that classify without looking further.
OUTCOMES: dict[str, Outcome] = {
    "BadDeviceToken": Outcome.DEVICE_GONE,
    "DeviceTokenNotForTopic": Outcome.DEVICE_GONE,
    "Unregistered": Outcome.DEVICE_GONE,
    "ExpiredToken": Outcome.DEVICE_GONE,
    **dict.fromkeys(
        (
            "BadTopic",
            "TopicDisallowed",
            "MissingTopic",
            "BadCollapseId",
            "BadExpirationDate",
            "BadMessageId",
            "BadPriority",
            "BadPath",
            "PayloadEmpty",
            "DuplicateHeaders",
            "InvalidPushType",
            "MissingDeviceToken",
            "PayloadTooLarge",
            "MethodNotAllowed",
        ),
        Outcome.MESSAGE_FAILED,
    ),
    **dict.fromkeys(
        (
            "BadCertificate",
            "BadCertificateEnvironment",
            "Forbidden",
            "MissingProviderToken",
            "ExpiredProviderToken",
            "InvalidProviderToken",
        ),
        Outcome.AUTH_FAILED,
    ),
    # "The device token is receiving too many requests": one device's limit, not Apple's.
    "TooManyRequests": Outcome.DEVICE_RETRY,
    **dict.fromkeys(
        (
            "TooManyProviderTokenUpdates",
            "IdleTimeout",
            "InternalServerError",
            "ServiceUnavailable",
            "Shutdown",
        ),
        Outcome.RETRY,
    ),
}
# Headers of the renderer that go on the wire; the topic and the id are ours to set.
PASSED_HEADERS = ("apns-push-type", "apns-priority", "apns-expiration", "apns-collapse-id")
CANONICAL_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


@dataclass(frozen=True, repr=False)
class ApnsTopic(Credential):
    """What both ways of authenticating share: the app's topic and where it is pushed."""

    topic: str  # the app's bundle ID
    sandbox: bool  # Apple's development environment, not production
    environment: str  # that environment's name for people: "Production"


@dataclass(frozen=True, repr=False)
class ApnsKey(ApnsTopic):
    """Token authentication: a .p8 signing key, its Key ID and the team it belongs to."""

    key_id: str
    team_id: str
    signing_key: str  # the .p8 file's PEM text


@dataclass(frozen=True, repr=False)
class ApnsCertificate(ApnsTopic):
    """Certificate authentication: a .p12 push certificate and its password."""

    p12: bytes
    password: str


def unreadable_key(name: str, error: Exception) -> ProviderError:
    """The failure of a .p8 signing key that cannot be read: the problem, never the content."""
    return ProviderError(
        f"{name} has an unreadable .p8 signing key ({type(error).__name__}); "
        "upload the key file again.",
        permanent=True,
    )


def unreadable_certificate(name: str, error: Exception) -> ProviderError:
    """The failure of a .p12 that cannot be read: the problem, never the content."""
    return ProviderError(
        f"{name} has an unreadable .p12 certificate ({type(error).__name__}); "
        "upload it again with its password.",
        permanent=True,
    )


class ApnsClient:
    """Send APNs pushes for one app's credential (token or certificate authentication).

    The client makes its own transport on first use unless given one; a given transport must
    already carry the client certificate when the credential uses certificate authentication.
    """

    def __init__(
        self, credential: ApnsKey | ApnsCertificate, transport: Transport | None = None
    ) -> None:
        self.credential = credential
        self._transport = transport
        self._owns_transport = transport is None
        self._authority: _Authority | None = None

    def send(self, pushes: Sequence[Push]) -> list[Result]:
        """Send each push to its device concurrently and classify every answer, in order."""
        if not pushes:
            return []
        authority = self._authority_in_use()
        token = _TOKENS.get(authority.signer) if authority.signer else ""
        responses = self._post(authority, token, pushes)
        results = [
            classify(push.key, response) for push, response in zip(pushes, responses, strict=True)
        ]
        refused = [i for i, response in enumerate(responses) if _token_refused(response)]
        if refused and authority.signer is not None:
            self._answer_token_refusal(authority, authority.signer, token, pushes, refused, results)
        return results

    def validate(self) -> tuple[bool, str]:
        """Prove the credential with a push to a made-up device token; return (valid, message).

        Raises ProviderError when Apple could not be asked (timeouts, 5xx, TLS): that proves
        nothing either way.
        """
        try:
            self._authority_in_use()
        except ProviderError as error:
            if error.permanent:
                return False, error.message
            raise
        push = Push(
            key="validation",
            target=VALIDATION_TOKEN,
            body=VALIDATION_BODY,
            headers=VALIDATION_HEADERS,
        )
        return _judge_validation(self.send([push])[0], self.credential)

    def close(self) -> None:
        """Close the connections of the transport this client created."""
        if self._owns_transport and self._transport is not None:
            self._transport.close()
            self._transport = None

    def _answer_token_refusal(
        self,
        authority: _Authority,
        signer: _Signer,
        refused_token: str,
        pushes: Sequence[Push],
        refused: list[int],
        results: list[Result],
    ) -> None:
        """Resend the pushes Apple refused for our token with a newer one, if one may be had.

        A token younger than 20 minutes is kept (a new one would be TooManyProviderTokenUpdates):
        its refused pushes stay AUTH_FAILED and say when the token may be replaced.
        """
        newer = _TOKENS.replace(signer, refused_token)
        if newer is not None:
            again = self._post(authority, newer, [pushes[i] for i in refused])
            for i, response in zip(refused, again, strict=True):
                results[i] = classify(pushes[i].key, response)
            refused = [i for i, seen in zip(refused, again, strict=True) if _token_refused(seen)]
        if not refused:
            return
        detail = _not_replaceable_before(_TOKENS.replaceable_at(signer))
        for i in refused:
            results[i] = dataclasses.replace(results[i], detail=detail)

    def _post(self, authority: _Authority, token: str, pushes: Sequence[Push]) -> list[Response]:
        prefix = f"{authority.url}/3/device/"
        requests = [
            Request(
                push.key,
                "POST",
                prefix + quote(push.target, safe=""),
                _headers(push, authority.topic, token),
                push.body,
            )
            for push in pushes
        ]
        return self._transport_in_use(authority).perform(requests)

    def _transport_in_use(self, authority: _Authority) -> Transport:
        if self._transport is None:
            self._transport = Transport(
                ca_bundle=settings.CA_BUNDLE, client_cert=authority.client_certificate
            )
        return self._transport

    def _authority_in_use(self) -> _Authority:
        if self._authority is None:
            self._authority = _Authority.of(self.credential)
        return self._authority


# Answers ---------------------------------------------------------------------------------------


def classify(key: str, response: Response) -> Result:
    """Classify APNs's answer to one push by the table in the module docstring."""
    if response.status == 0:
        return Result(key, Outcome.RETRY, 0, "", response.error)
    if response.http_version != "2":
        detail = (
            f"the answer came over HTTP/{response.http_version or '?'}, not HTTP/2: "
            "the APNs URL does not lead to APNs"
        )
        return Result(key, Outcome.RETRY, response.status, "", detail)
    provider_id = response.headers.get("apns-id", "")
    if response.status == 200:
        return Result(key, Outcome.SENT, 200, provider_id=provider_id)
    document = _document(response.body)
    reason = str(document.get("reason") or "")
    outcome = OUTCOMES.get(reason) or _outcome_by_status(response.status)
    wait = retry_after(response.headers) if outcome in RETRIED else None
    return Result(
        key,
        outcome,
        response.status,
        reason,
        _detail(document, response.body, reason),
        wait,
        provider_id,
    )


def _outcome_by_status(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.SENT
    if status == 410:
        return Outcome.DEVICE_GONE
    if status in (401, 403):
        return Outcome.AUTH_FAILED
    if status == 429 or status >= 500:
        return Outcome.RETRY
    return Outcome.MESSAGE_FAILED


def _token_refused(response: Response) -> bool:
    """Tell whether Apple refused our provider token (and a new one may be accepted)."""
    if response.status != 403 or response.http_version != "2":
        return False
    return _document(response.body).get("reason") in TOKEN_REFUSALS


def _not_replaceable_before(when: datetime) -> str:
    return (
        f"the provider token cannot be replaced before {when.isoformat(timespec='seconds')} "
        "(Apple allows one new token per 20 minutes)"
    )


def _document(body: bytes) -> dict[str, object]:
    try:
        document = json.loads(body)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _detail(document: dict[str, object], body: bytes, reason: str) -> str:
    timestamp = document.get("timestamp")
    if isinstance(timestamp, int | float) and not isinstance(timestamp, bool):
        # Apple's milliseconds since the epoch: when it last learnt the token was not valid.
        when = datetime.fromtimestamp(timestamp / 1000, UTC)
        return f"the token has not been valid since {when.isoformat(timespec='seconds')}"
    if reason:
        return ""
    return body.decode("utf-8", "replace").strip()[:300]


def _headers(push: Push, topic: str, token: str) -> dict[str, str]:
    headers = {"apns-topic": topic}
    for name, value in push.headers.items():
        lowered = name.lower()
        if lowered in PASSED_HEADERS and value != "":
            headers[lowered] = value
    if CANONICAL_UUID.fullmatch(push.key):
        headers["apns-id"] = push.key
    if token:
        headers["authorization"] = f"bearer {token}"
    return headers


def _judge_validation(result: Result, credential: ApnsTopic) -> tuple[bool, str]:
    said = ": ".join(part for part in (result.reason, result.detail) if part)
    said = said or f"HTTP {result.status}"
    where = f"{credential.topic} ({credential.environment})"
    if result.outcome == Outcome.SENT:
        return True, f"APNs accepted the credentials for {where}."
    if result.outcome == Outcome.DEVICE_GONE and result.reason in PROOF_REASONS:
        return True, (
            f"APNs accepted the credentials for {where}; it refused only the made-up "
            f"device token of the check: {said}. Not proved by that: that the app's devices "
            "registered tokens of this environment and bundle ID."
        )
    if result.outcome == Outcome.RETRY:
        raise ProviderError(f"APNs could not check the credentials now: {said}", permanent=False)
    if result.outcome == Outcome.AUTH_FAILED:
        return False, f"APNs refused the credentials: {said}."
    return False, f"APNs refused a push to the topic {where}: {said}."


# Authentication --------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class _Signer:
    """What a provider token needs; the cache key says whose key it is (never the key itself).

    Apps that sign with the same key share its token: Apple counts token updates per key, not
    per app ("Establishing a token-based connection to APNs": one token may serve all of a
    team's apps).
    """

    cache_key: tuple[str, ...]
    key_id: str
    team_id: str
    private_key: ec.EllipticCurvePrivateKey

    def __repr__(self) -> str:  # never show the key, even in a traceback
        return f"_Signer(key_id={self.key_id!r}, team_id={self.team_id!r})"

    def provider_token(self) -> str:
        # Whole seconds, rounded down: Apple refuses an iat in the future.
        claims = {"iss": self.team_id, "iat": int(time.time())}
        return jwt.encode(claims, self.private_key, algorithm="ES256", headers={"kid": self.key_id})


@dataclass(frozen=True, repr=False)
class _Authority:
    """Where a credential's pushes go and how they authenticate: a signer or a certificate."""

    url: str
    topic: str
    signer: _Signer | None = None
    client_certificate: tuple[bytes, bytes] | None = None  # (certificate chain PEM, key PEM)

    def __repr__(self) -> str:
        return f"_Authority({self.url!r}, {self.topic!r})"

    @classmethod
    def of(cls, credential: ApnsKey | ApnsCertificate) -> _Authority:
        """Read what sending needs from the credential; ProviderError (permanent) if unusable."""
        if not credential.topic:
            raise ProviderError(
                f"{credential.name} has no bundle ID (the APNs topic).", permanent=True
            )
        url = settings.APNS_DEVELOPMENT_URL if credential.sandbox else settings.APNS_PRODUCTION_URL
        url = url.rstrip("/")
        if isinstance(credential, ApnsCertificate):
            certificate = client_certificate(credential)
            return cls(url, credential.topic, client_certificate=certificate)
        return cls(url, credential.topic, signer=_signer(credential))


def _signer(credential: ApnsKey) -> _Signer:
    if not (credential.key_id and credential.team_id):
        raise ProviderError(
            f"{credential.name} needs its Key ID and Team ID for token authentication.",
            permanent=True,
        )
    try:
        key = serialization.load_pem_private_key(credential.signing_key.encode(), password=None)
    except (TypeError, ValueError) as error:
        raise unreadable_key(credential.name, error) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ProviderError(
            f"{credential.name}'s signing key is not an APNs key (ES256 needs EC P-256).",
            permanent=True,
        )
    identity = ("apns", credential.team_id, credential.key_id, _key_digest(key))
    return _Signer(identity, credential.key_id, credential.team_id, key)


def _key_digest(key: ec.EllipticCurvePrivateKey) -> str:
    """Name the key pair by a digest of its public half, however its PEM is laid out."""
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(public).hexdigest()


def client_certificate(credential: ApnsCertificate) -> tuple[bytes, bytes]:
    """Return the .p12's certificate chain and unencrypted key as PEM, in memory only."""
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(
            credential.p12, credential.password.encode() or None
        )
    except (TypeError, ValueError) as error:
        raise unreadable_certificate(credential.name, error) from None
    if key is None or certificate is None:
        raise ProviderError(
            f"{credential.name}'s .p12 lacks a certificate or its private key.", permanent=True
        )
    expired_on = certificate.not_valid_after_utc
    if expired_on <= datetime.now(UTC):
        raise ProviderError(
            f"{credential.name}'s push certificate expired on {expired_on:%Y-%m-%d}; "
            "upload a renewed .p12.",
            permanent=True,
        )
    certificates = b"".join(
        each.public_bytes(serialization.Encoding.PEM) for each in (certificate, *chain)
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificates, key_pem


@dataclass(frozen=True)
class _ProviderToken:
    value: str
    made_at: float  # time.monotonic(): a wall clock set back or forward does not confuse it


class _ProviderTokens:
    """Keep one provider token per signing key for the whole process, thread-safe.

    Making a token is local work (one ES256 signature), so one lock serves every key, and
    threads that find a token stale together make one new token, not one each. A key's token is
    never replaced sooner than TOKEN_REPLACE_NOT_BEFORE after it was made.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, ...], _ProviderToken] = {}

    def get(self, signer: _Signer) -> str:
        """Return the key's current token, making a new one once it is 50 minutes old."""
        with self._lock:
            cached = self._tokens.get(signer.cache_key)
            if cached is not None and _age(cached) < TOKEN_REFRESH_AFTER:
                return cached.value
            return self._make(signer)

    def replace(self, signer: _Signer, refused: str) -> str | None:
        """Return a token to use in place of one Apple refused, or None to keep the refused one.

        Another thread may have replaced it already: that token is returned. Otherwise a new
        one is made only if the refused one is at least 20 minutes old.
        """
        with self._lock:
            cached = self._tokens.get(signer.cache_key)
            if cached is not None and cached.value != refused:
                return cached.value
            if cached is not None and _age(cached) < TOKEN_REPLACE_NOT_BEFORE:
                return None
            return self._make(signer)

    def replaceable_at(self, signer: _Signer) -> datetime:
        """Return when the key's current token may be replaced, by the wall clock (UTC)."""
        with self._lock:
            cached = self._tokens.get(signer.cache_key)
            wait = TOKEN_REPLACE_NOT_BEFORE - _age(cached) if cached is not None else 0.0
        return datetime.fromtimestamp(time.time() + max(wait, 0.0), UTC)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()

    def _make(self, signer: _Signer) -> str:
        token = _ProviderToken(signer.provider_token(), time.monotonic())
        self._tokens[signer.cache_key] = token
        return token.value


def _age(token: _ProviderToken) -> float:
    return time.monotonic() - token.made_at


_TOKENS = _ProviderTokens()


# Rendering -------------------------------------------------------------------------------------
# Apple's "Generating a remote notification": the JSON payload (``aps`` with an ``alert``
# dictionary, custom keys beside it; ``thread-id``, ``category``, ``interruption-level`` and
# ``relevance-score`` in aps) and "Sending notification requests to APNs": the
# ``apns-push-type``, ``apns-priority`` and ``apns-expiration`` headers.
#
# ============ ================================== ============== ================================
# kind         aps                                apns-push-type apns-priority
# ============ ================================== ============== ================================
# standard,    alert, sound, badge, mutable-      alert          10 for high, 5 for normal
# toast        content, thread-id, category,
#              interruption-level, relevance-score
# badge        badge only                         alert          10 for high, 5 for normal
# silent       content-available: 1 only          background     5, whatever the priority
# ============ ================================== ============== ================================

NAME = "APNs"
LIMIT = 4096  # bytes; Apple: 4 KB for a regular remote notification

# Keys we set ourselves: the apps read them, so custom data must not be able to forge them
# (a forged tracking_id would credit a launch to another notification).
APNS_OWN_KEYS = frozenset({"tracking_id", "url", "image_url"})
# "Sending notification requests to APNs", apns-priority: 10 sends at once, 5 "takes into
# account power considerations for the device".
PRIORITY_HEADERS = {"high": "10", "normal": "5"}
# "Pushing background updates to your App": a background push is apns-push-type background at
# apns-priority 5; priority 10 "must trigger an alert, sound, or badge on the target device. It
# is an error to use this priority for a push notification that contains only the
# content-available key" ("Sending notification requests to APNs").
BACKGROUND_PRIORITY = "5"


def render(message: Message, token: str = "", now: datetime | None = None) -> Payload:
    """Render the APNs JSON payload and headers (the client adds the token and apns-topic)."""
    refuse_tile(message, "APNs")
    refuse_empty(message, "APNs")
    body = json.dumps(_apns_document(message), separators=(",", ":"), ensure_ascii=False)
    return Payload("ios", NAME, body.encode("utf-8"), _apns_headers(message), LIMIT)


def _apns_document(message: Message) -> dict[str, object]:
    """Build the payload: aps, then custom keys, then the keys the app's code reads."""
    if "aps" in message.custom_data:
        raise ValueError("Custom data may not use the key 'aps': APNs reserves it.")
    # image_url is for the app's notification service extension, which downloads and attaches it.
    own = {"url": message.url, "tracking_id": message.tracking_id, "image_url": message.image_url}
    custom = custom_data(message, APNS_OWN_KEYS)
    return {"aps": _apns_aps(message), **custom, **without_empty(own)}


def _apns_aps(message: Message) -> dict[str, object]:
    """Build the aps dictionary for the message's kind."""
    if message.kind == "silent":
        # "Pushing background updates to your App": aps holds content-available 1 and no alert,
        # sound or badge key; the app reads the custom keys beside aps.
        return {"content-available": 1}
    if message.kind == "badge":
        return {"badge": message.badge}
    return _alert_aps(message)


def _alert_aps(message: Message) -> dict[str, object]:
    """Build the aps dictionary of an alert; empty keys are left out."""
    alert = without_empty(
        {"title": message.title, "subtitle": message.subtitle, "body": message.body}
    )
    aps = {
        "alert": alert,
        "sound": message.sound,
        "badge": message.badge,
        "thread-id": message.thread_id,
        "category": message.ios_category,
        "interruption-level": message.interruption_level,
        "relevance-score": message.relevance_score,
    }
    # Without mutable-content iOS shows the alert as is and the extension never sees the image.
    aps["mutable-content"] = 1 if message.image_url else None
    return without_empty(aps)


def _apns_headers(message: Message) -> dict[str, str]:
    """Build the headers; without apns-expiration APNs stores the message for an offline device."""
    if message.kind == "silent":
        headers = {"apns-push-type": "background", "apns-priority": BACKGROUND_PRIORITY}
    else:
        headers = {"apns-push-type": "alert", "apns-priority": PRIORITY_HEADERS[message.priority]}
    if message.expires_at is not None:
        headers["apns-expiration"] = str(int(message.expires_at.timestamp()))
    if message.collapse_id:
        headers["apns-collapse-id"] = message.collapse_id
    return headers


def probe(token: str) -> Push:
    """Make the silent check for a registered device: a background push at priority 5.

    Apple's "Pushing background updates to your App": content-available, apns-push-type
    background, apns-priority 5. The app may wake briefly; nothing is shown. A wrong environment
    or bundle ID shows here (BadDeviceToken, DeviceTokenNotForTopic) before a campaign does.
    """
    return Push(key="probe", target=token, body=VALIDATION_BODY, headers=VALIDATION_HEADERS)


PROVIDER = Provider(
    platform="ios",
    name=NAME,
    credential="apns_credential",
    client=ApnsClient,
    render=render,
    limit=LIMIT,
    address="push_token",
    retired_as=AddressGone.TOKEN_INVALID,
    probe=probe,
)

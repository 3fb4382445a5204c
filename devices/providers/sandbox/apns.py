"""The APNs look-alike: `POST /3/device/{token}` over HTTP/2, answered as Apple documents.

Checks, in Apple's order of concern: the method and path; the provider authentication (a
bearer JWT, or else a TLS client certificate); the apns-* headers; the topic against the
credential; the device token; the payload; then the injected fault for the token's prefix.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from devices.providers.sandbox.directory import CACHE_SECONDS, certificate_fingerprint
from devices.providers.sandbox.faults import Fault
from devices.providers.sandbox.gateway import Answer, Gateway, Note, Request, parse_json

PATH_RE = re.compile(r"^/3/device/(?P<token>[^/]*)$")
DEVICE_TOKEN_RE = re.compile(r"^[0-9a-fA-F]{64,200}$")
UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
PUSH_TYPES = {
    "alert",
    "background",
    "location",
    "voip",
    "complication",
    "fileprovider",
    "mdm",
    "liveactivity",
    "pushtotalk",
    "widgets",
    "controls",
}
# Topics a credential for bundle B may also push to: B plus the suffix of a special push type.
TOPIC_SUFFIXES = ("", ".voip", ".complication", ".pushkit.fileprovider", ".push-type.liveactivity")
MAX_PAYLOAD = 4096
MAX_VOIP_PAYLOAD = 5120
MAX_COLLAPSE_ID = 64
TOKEN_LIFETIME = 3600  # Apple refuses a provider token whose iat is older than an hour
CLOCK_SKEW = 60
VERIFIED_TOKENS_KEPT = 1024
REVERIFY_SECONDS = CACHE_SECONDS

FAULTS = (
    Fault("dead", 410, "Unregistered"),
    Fault("bad0", 400, "BadDeviceToken"),
    Fault("f00d", 429, "TooManyRequests"),
    Fault("fa11", 503, "ServiceUnavailable"),
    Fault("c0de", 500, "InternalServerError", first_requests=2),
    Fault("5105", delay=2.0),
)


class Refusal(Exception):
    """A request Apple would refuse: its status and reason string."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class ApnsGateway(Gateway):
    provider = "apns"
    faults = FAULTS

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # A client reuses its provider token for up to an hour: verify each one once, and again
        # after REVERIFY_SECONDS, so a key removed from the database stops working.
        self._verified: dict[str, tuple[float, int, frozenset[str]]] = {}

    async def handle(self, request: Request, note: Note) -> Answer:
        apns_id = request.header("apns-id") or ""
        if not UUID_RE.match(apns_id):
            apns_id = str(uuid.uuid4()).upper()
        match = PATH_RE.match(request.path)
        note.target = match["token"] if match else None
        note.payload = parse_json(request.body)
        try:
            if request.http_version != "2":
                return Answer(505, [("content-type", "text/plain")], b"APNs speaks HTTP/2 only.")
            self._check_route(request, match)
            topics = await self._authenticate(request)
            self._check_headers(request)
            self._check_topic(request, topics, certificate=request.bearer_token() is None)
            self._check_device_token(note.target or "")
            self._check_payload(request)
            await self._inject_fault(note.target or "")
        except Refusal as refusal:
            note.facts["reason"] = refusal.reason
            return _refusal_answer(refusal, apns_id)
        return Answer(200, [("apns-id", apns_id)])

    def reset(self) -> None:
        super().reset()
        self._verified.clear()

    def _check_route(self, request: Request, match: re.Match | None) -> None:
        if request.method != "POST":
            raise Refusal(405, "MethodNotAllowed")
        if match is None:
            raise Refusal(404, "BadPath")
        if not match["token"]:
            raise Refusal(400, "MissingDeviceToken")

    async def _authenticate(self, request: Request) -> frozenset[str]:
        """Return the topics the request's provider token or client certificate may push to."""
        token = request.bearer_token()
        if token is not None:
            return await self._verify_provider_token(token)
        if request.client_certificate is not None:
            return await self._certificate_topics(request.client_certificate)
        raise Refusal(403, "MissingProviderToken")

    async def _verify_provider_token(self, token: str) -> frozenset[str]:
        verified_at, issued_at, topics = self._verified.get(token, (0.0, 0, frozenset()))
        if time.monotonic() - verified_at > REVERIFY_SECONDS:
            issued_at, topics = await self._verify_signature(token)
            if len(self._verified) >= VERIFIED_TOKENS_KEPT:
                self._verified.clear()
            self._verified[token] = (time.monotonic(), issued_at, topics)
        now = time.time()
        if issued_at > now + CLOCK_SKEW:
            raise Refusal(403, "InvalidProviderToken")
        if now - issued_at > TOKEN_LIFETIME:
            raise Refusal(403, "ExpiredProviderToken")
        return topics

    async def _verify_signature(self, token: str) -> tuple[int, frozenset[str]]:
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            raise Refusal(403, "InvalidProviderToken") from None
        key_id, team_id, issued_at = header.get("kid"), claims.get("iss"), claims.get("iat")
        if header.get("alg") != "ES256" or not isinstance(issued_at, int):
            raise Refusal(403, "InvalidProviderToken")
        if not isinstance(key_id, str) or not isinstance(team_id, str):
            raise Refusal(403, "InvalidProviderToken")
        for fresh in (False, True):
            keys = await self.directory.apns_signing_keys(key_id, team_id, fresh=fresh)
            topics = frozenset(k.bundle_id for k in keys if _signed_by(token, k.public_key))
            if topics:
                return issued_at, topics
        raise Refusal(403, "InvalidProviderToken")

    async def _certificate_topics(self, pem: str) -> frozenset[str]:
        der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
        found = await self.directory.apns_certificates(certificate_fingerprint(der))
        if not found:
            raise Refusal(403, "BadCertificate")
        return frozenset(entry.bundle_id for entry in found)

    def _check_headers(self, request: Request) -> None:
        apns_id = request.header("apns-id")
        if apns_id is not None and not UUID_RE.match(apns_id):
            raise Refusal(400, "BadMessageId")
        if request.header("apns-push-type") not in PUSH_TYPES:
            raise Refusal(400, "InvalidPushType")
        if request.header("apns-priority") not in (None, "10", "5", "1"):
            raise Refusal(400, "BadPriority")
        expiration = request.header("apns-expiration")
        if expiration is not None and not expiration.isdigit():
            raise Refusal(400, "BadExpirationDate")
        collapse_id = request.header("apns-collapse-id")
        if collapse_id is not None and len(collapse_id.encode()) > MAX_COLLAPSE_ID:
            raise Refusal(400, "BadCollapseId")

    def _check_topic(self, request: Request, topics: frozenset[str], *, certificate: bool) -> None:
        topic = request.header("apns-topic")
        if not topic:
            raise Refusal(400, "MissingTopic")
        if not any(topic == bundle + suffix for bundle in topics for suffix in TOPIC_SUFFIXES):
            # A key may push to its team's apps; a certificate only to the app it was made for.
            raise Refusal(400, "DeviceTokenNotForTopic" if certificate else "TopicDisallowed")

    def _check_device_token(self, device_token: str) -> None:
        if not DEVICE_TOKEN_RE.match(device_token):
            raise Refusal(400, "BadDeviceToken")

    def _check_payload(self, request: Request) -> None:
        if not request.body:
            raise Refusal(400, "PayloadEmpty")
        limit = MAX_VOIP_PAYLOAD if request.header("apns-push-type") == "voip" else MAX_PAYLOAD
        if len(request.body) > limit:
            raise Refusal(413, "PayloadTooLarge")
        if not isinstance(parse_json(request.body), dict):
            # Apple documents no reason for a body that is not a JSON object; this one is ours.
            raise Refusal(400, "BadPayload")

    async def _inject_fault(self, device_token: str) -> None:
        fault = self.fault_plan.fault_for(device_token)
        if fault is None:
            return
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status != 200:
            raise Refusal(fault.status, fault.reason)


def _signed_by(token: str, public_key: ec.EllipticCurvePublicKey) -> bool:
    try:
        jwt.decode(
            token,
            key=public_key,
            algorithms=["ES256"],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.InvalidTokenError:
        return False
    return True


def _refusal_answer(refusal: Refusal, apns_id: str) -> Answer:
    document: dict[str, object] = {"reason": refusal.reason}
    if refusal.status == 410:
        # When APNs last learnt the token was no longer valid, in milliseconds since the epoch.
        document["timestamp"] = int(time.time() * 1000)
    headers = [("apns-id", apns_id)]
    return Answer.json(refusal.status, document, headers)

"""The APNs look-alike: `POST /3/device/{token}` over HTTP/2, answered as Apple documents.

Checks, in Apple's order of concern: the method and path; the provider authentication (a
bearer JWT, or else a TLS client certificate); the apns-* headers; the topic against the
credential; the device token (and a credential a test marked as the wrong environment or app);
the payload (its size, its aps values, and that its aps matches apns-push-type: a background
push at priority 5 with content-available 1 and nothing to show, an alert push with an alert,
sound or badge); then the injected fault for the token's prefix.

Provider tokens follow Apple's "Establishing a token-based connection to APNs": an iat more
than an hour old is 403 ExpiredProviderToken, and a connection that carried one token for a key
answers a different token for that key within 20 minutes with 429 TooManyProviderTokenUpdates
("Handling notification responses from APNs"). Apple's engineers describe that limit per
connection, and it is kept per connection here: Push Center's worker processes each make their
own token and open their own connections, which Apple accepts. `tokens_seen` counts, across
connections, the distinct tokens that named a team and key, so a test can tell how many a
client made.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from devices.sandbox.directory import CACHE_SECONDS, certificate_fingerprint
from devices.sandbox.faults import Fault
from devices.sandbox.gateway import Answer, Gateway, Note, Request, parse_json

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
# Apple's "Generating a remote notification": the aps keys that make a push visible, and the
# interruption levels (critical needs Apple's entitlement, yet is a documented value).
VISIBLE_KEYS = frozenset({"alert", "sound", "badge"})
INTERRUPTION_LEVELS = ("passive", "active", "time-sensitive", "critical")
# Apple documents no reason for a payload that is not what it accepts; this one is ours.
BAD_PAYLOAD = "BadPayload"
MAX_PAYLOAD = 4096
MAX_VOIP_PAYLOAD = 5120
MAX_COLLAPSE_ID = 64
TOKEN_LIFETIME = 3600  # Apple refuses a provider token whose iat is older than an hour
TOKEN_UPDATE_INTERVAL = 20 * 60  # and a key's token replaced sooner than this on a connection
SEEN_TOKENS_KEPT = 100_000  # tokens counted by tokens_seen before the count starts over
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


# What a test can make every device token of a credential (by its bundle ID) answer: the
# reasons Apple gives a token of the other environment, and a token of another app.
WRONG_ENVIRONMENT = "BadDeviceToken"
WRONG_TOPIC = "DeviceTokenNotForTopic"


@dataclass(frozen=True)
class ProviderTokenFacts:
    """What verifying a provider token established: whose key signed it, when, for which apps."""

    team_id: str
    key_id: str
    key_fingerprint: str  # SHA-256 of the public key: a Key ID replaced with a new key is new
    issued_at: int
    topics: frozenset[str]


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
        # Apple's clock, for the iat and token-update rules: tests move it (with the client's)
        # to check time rules without sleeping; reset() sets it right again.
        self.clock: Callable[[], float] = time.time
        # A client reuses its provider token for up to an hour: verify each one once, and again
        # after REVERIFY_SECONDS, so a key removed from the database stops working.
        self._verified: dict[str, tuple[float, ProviderTokenFacts]] = {}
        self._seen_digests: set[bytes] = set()
        self._seen: Counter[tuple[str, str]] = Counter()
        self._misdirected: dict[str, str] = {}  # bundle ID -> the reason every token gets
        # Connections outlive a test; token updates they remember count only within one.
        self._generation = 0

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
            self._check_device_token(note.target or "", request.header("apns-topic") or "")
            self._check_payload(request)
            await self._inject_fault(note.target or "")
        except Refusal as refusal:
            note.facts["reason"] = refusal.reason
            return _refusal_answer(refusal, apns_id)
        return Answer(200, [("apns-id", apns_id)])

    def reset(self) -> None:
        super().reset()
        self.clock = time.time
        self._verified.clear()
        self._seen_digests.clear()
        self._seen.clear()
        self._misdirected.clear()
        self._generation += 1

    def tokens_seen(self, team_id: str, key_id: str) -> int:
        """Return how many distinct provider tokens named this team and key (since reset)."""
        return self._seen[(team_id, key_id)]

    def wrong_environment(self, bundle_id: str) -> None:
        """Answer every device token pushed to this app 400 BadDeviceToken.

        That is what Apple answers a token of the other environment (a production credential
        sending to development tokens, or the reverse).
        """
        self._misdirected[bundle_id] = WRONG_ENVIRONMENT

    def wrong_topic(self, bundle_id: str) -> None:
        """Answer every device token pushed to this app 400 DeviceTokenNotForTopic.

        That is what Apple answers tokens of another app: the credential's bundle ID is wrong.
        """
        self._misdirected[bundle_id] = WRONG_TOPIC

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
            self._count(token)
            facts = await self._verify_provider_token(token)
            self._check_token_update(request, token, facts)
            return facts.topics
        if request.client_certificate is not None:
            return await self._certificate_topics(request.client_certificate)
        raise Refusal(403, "MissingProviderToken")

    def _count(self, token: str) -> None:
        """Count a token not seen before under the team and key it names, valid or not."""
        digest = hashlib.sha256(token.encode()).digest()
        if digest in self._seen_digests:
            return
        try:
            key_id = jwt.get_unverified_header(token).get("kid")
            team_id = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.InvalidTokenError:
            return
        if not isinstance(key_id, str) or not isinstance(team_id, str):
            return
        if len(self._seen_digests) >= SEEN_TOKENS_KEPT:
            self._seen_digests.clear()
            self._seen.clear()
        self._seen_digests.add(digest)
        self._seen[(team_id, key_id)] += 1

    async def _verify_provider_token(self, token: str) -> ProviderTokenFacts:
        verified_at, facts = self._verified.get(token, (0.0, None))
        if facts is None or time.monotonic() - verified_at > REVERIFY_SECONDS:
            facts = await self._verify_signature(token)
            if len(self._verified) >= VERIFIED_TOKENS_KEPT:
                self._verified.clear()
            self._verified[token] = (time.monotonic(), facts)
        now = self.clock()
        if facts.issued_at > now + CLOCK_SKEW:
            raise Refusal(403, "InvalidProviderToken")
        if now - facts.issued_at > TOKEN_LIFETIME:
            raise Refusal(403, "ExpiredProviderToken")
        return facts

    async def _verify_signature(self, token: str) -> ProviderTokenFacts:
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
            signers = [k for k in keys if _signed_by(token, k.public_key)]
            if signers:
                topics = frozenset(k.bundle_id for k in signers)
                fingerprint = _fingerprint(signers[0].public_key)
                return ProviderTokenFacts(team_id, key_id, fingerprint, issued_at, topics)
        raise Refusal(403, "InvalidProviderToken")

    def _check_token_update(self, request: Request, token: str, facts: ProviderTokenFacts) -> None:
        """Refuse a key's new token on a connection that took another one under 20 minutes ago."""
        carried = request.connection.setdefault("apns-provider-tokens", {})
        key = (self._generation, facts.team_id, facts.key_id, facts.key_fingerprint)
        previous = carried.get(key)
        if previous is not None and previous[0] == token:
            return
        now = self.clock()
        if previous is not None and now - previous[1] < TOKEN_UPDATE_INTERVAL:
            raise Refusal(429, "TooManyProviderTokenUpdates")
        carried[key] = (token, now)

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

    def _check_device_token(self, device_token: str, topic: str) -> None:
        if not DEVICE_TOKEN_RE.match(device_token):
            raise Refusal(400, "BadDeviceToken")
        reason = self._misdirected.get(_bundle_of(topic))
        if reason is not None:
            raise Refusal(400, reason)

    def _check_payload(self, request: Request) -> None:
        if not request.body:
            raise Refusal(400, "PayloadEmpty")
        limit = MAX_VOIP_PAYLOAD if request.header("apns-push-type") == "voip" else MAX_PAYLOAD
        if len(request.body) > limit:
            raise Refusal(413, "PayloadTooLarge")
        document = parse_json(request.body)
        if not isinstance(document, dict):
            # Apple documents no reason for a body that is not a JSON object; this one is ours.
            raise Refusal(400, BAD_PAYLOAD)
        aps = document.get("aps", {})
        if not isinstance(aps, dict):
            raise Refusal(400, BAD_PAYLOAD)
        _check_aps_values(aps)
        _check_push_type_matches(request, aps)

    async def _inject_fault(self, device_token: str) -> None:
        fault = self.fault_plan.fault_for(device_token)
        if fault is None:
            return
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status != 200:
            raise Refusal(fault.status, fault.reason)


def _check_aps_values(aps: dict) -> None:
    """Refuse aps values outside what Apple's "Generating a remote notification" allows.

    interruption-level is passive, active, time-sensitive or critical; relevance-score a number
    from 0 to 1; content-available, when present, 1. Apple names no reason for these, so the
    answer is our BadPayload, 400, as for a body that is not a JSON object.
    """
    level = aps.get("interruption-level")
    if level is not None and level not in INTERRUPTION_LEVELS:
        raise Refusal(400, BAD_PAYLOAD)
    score = aps.get("relevance-score")
    if score is not None and not (_is_number(score) and 0 <= score <= 1):
        raise Refusal(400, BAD_PAYLOAD)
    if "content-available" in aps and not _is_one(aps["content-available"]):
        raise Refusal(400, BAD_PAYLOAD)


def _check_push_type_matches(request: Request, aps: dict) -> None:
    """Refuse a push whose apns-push-type does not match its aps dictionary.

    "Sending notification requests to APNs": the push type "must accurately reflect the
    contents of your notification's payload"; on a mismatch APNs may return an error. Apple
    names the reason only for a wrong value (InvalidPushType), so a mismatch answers that too.
    "Pushing background updates to your App": a background push has content-available 1 and
    no alert, sound or badge, at apns-priority 5 (an absent apns-priority is 10, and priority
    10 "is an error" for a push with only content-available: BadPriority).
    """
    push_type = request.header("apns-push-type")
    if push_type == "background":
        if request.header("apns-priority") != "5":
            raise Refusal(400, "BadPriority")
        if not _is_one(aps.get("content-available")) or VISIBLE_KEYS & aps.keys():
            raise Refusal(400, "InvalidPushType")
    elif push_type == "alert" and not VISIBLE_KEYS & aps.keys():
        # An alert push shows an alert, plays a sound or sets the badge: one of them is needed.
        raise Refusal(400, "InvalidPushType")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_one(value: object) -> bool:
    return _is_number(value) and value == 1


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


def _bundle_of(topic: str) -> str:
    for suffix in TOPIC_SUFFIXES:
        if suffix and topic.endswith(suffix):
            return topic.removesuffix(suffix)
    return topic


def _fingerprint(public_key: ec.EllipticCurvePublicKey) -> str:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def _refusal_answer(refusal: Refusal, apns_id: str) -> Answer:
    document: dict[str, object] = {"reason": refusal.reason}
    if refusal.status == 410:
        # When APNs last learnt the token was no longer valid, in milliseconds since the epoch.
        document["timestamp"] = int(time.time() * 1000)
    headers = [("apns-id", apns_id)]
    return Answer.json(refusal.status, document, headers)

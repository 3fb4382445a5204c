"""The WNS look-alike: its Azure AD token endpoint and the channel URIs it serves.

- `POST /{tenant}/oauth2/v2.0/token`: the client-credentials grant of wns-push-quickstart.md;
  client_id and client_secret must be those of a WnsCredential of that tenant, the scope
  https://wns.notifications.windows.com/.default (or https://wns.windows.com/.default, as the
  quickstart writes it). Errors are Azure AD's JSON.
- `POST /accesstoken.srf`: the older flow of Store apps registered in Partner Center, as
  Microsoft's "Push notification service request and response headers" (learn.microsoft.com,
  windows/apps/design/shell/tiles-and-notifications/push-request-response-headers) documents
  it: form-encoded grant_type=client_credentials, client_id a Package SID
  (ms-app://s-1-15-2-…) of a WnsCredential of the Package SID flow, its client_secret, scope
  exactly notify.windows.com; the answer is JSON access_token, token_type "bearer",
  expires_in 86400, a refusal 400 with an OAuth error (invalid_client, invalid_request, ...).
- Any other path is a channel URI, `https://localhost:{port}/?token={channel token}`: a POST
  with a token this gateway issued, X-WNS-Type and its Content-Type, well-formed XML whose root
  matches the type (a badge's value a number or a documented glyph) or, for wns/raw, a
  non-empty body, at most 5000 bytes, X-WNS-Tag and X-WNS-Group alphanumeric and at most 16
  characters. Answers carry WNS's X-WNS-* headers.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from hmac import compare_digest
from xml.parsers import expat

from devices.sandbox.directory import secret_digest
from devices.sandbox.faults import Fault
from devices.sandbox.gateway import Answer, Gateway, Note, Request, parse_json

TOKEN_PATH_RE = re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token$")
SCOPES = (
    "https://wns.notifications.windows.com/.default",
    "https://wns.windows.com/.default",
    "https://wns.windows.com/.default/",
)
ACCESS_TOKEN_LIFETIME = 86399
LEGACY_TOKEN_PATH = "/accesstoken.srf"
LEGACY_SCOPE = "notify.windows.com"
LEGACY_TOKEN_LIFETIME = 86400
# WNS's 413: "The notification payload exceeds the 5000 byte size limit."
MAX_NOTIFICATION = 5000
# Microsoft's "Push notification service request and response headers": X-WNS-Tag and
# X-WNS-Group are each "An alphanumeric string of no more than 16 characters".
TAG_RE = re.compile(r"[A-Za-z0-9]{1,16}")
# Microsoft's "Badge notifications for Windows apps": the glyphs a badge may show instead of a
# number (a non-extensible set).
BADGE_GLYPHS = frozenset(
    {
        "none",
        "activity",
        "alarm",
        "alert",
        "attention",
        "available",
        "away",
        "busy",
        "error",
        "newMessage",
        "paused",
        "playing",
        "unavailable",
    }
)
# X-WNS-Type: the Content-Type it needs and the root element its XML must have (Microsoft's
# "Push notification service request and response headers": wns/raw is
# application/octet-stream, the others text/xml).
TYPES = {
    "wns/toast": ("text/xml", "toast"),
    "wns/tile": ("text/xml", "tile"),
    "wns/badge": ("text/xml", "badge"),
    "wns/raw": ("application/octet-stream", None),
}
DESCRIPTIONS = {
    400: "One or more headers were specified incorrectly or conflict with another header.",
    401: "The cloud service did not present a valid authentication ticket.",
    404: "The channel URI is not valid or is not recognized by WNS.",
    405: "Invalid method. Only POST is allowed.",
    406: "The cloud service exceeded its throttle limit.",
    410: "The channel expired.",
    413: "The notification payload exceeds the 5000 byte size limit.",
    429: "Too many requests.",
    500: "An internal failure caused notification delivery to fail.",
    503: "The server is currently unavailable.",
}

# Descriptions of a fault that shares its status with another answer: Microsoft's table lists
# "410 Domain Blocked" (the sender's fault) beside "410 Gone" (the channel's).
FAULT_DESCRIPTIONS = {"DomainBlocked": "The sending domain has been blocked by WNS."}
# X-WNS-Status values of a 200 that a fault answers instead of "received".
DROPPING = ("channelthrottled", "dropped")
FAULTS = (
    Fault("expired", 410, "ChannelExpired"),
    Fault("blocked", 410, "DomainBlocked"),
    Fault("channelthrottled", 200, "channelthrottled", retry_after=1),
    Fault("dropped", 200, "dropped"),
    Fault("gone", 404, "NotFound"),
    Fault("throttled", 406, "Throttled"),
    Fault("busy", 429, "TooManyRequests", retry_after=1),
    Fault("fail", 503, "ServiceUnavailable"),
    Fault("flaky", 500, "InternalServerError", first_requests=2),
    Fault("slow", delay=2.0),
)


@dataclass(frozen=True)
class IssuedToken:
    tenant_id: str  # "" for a token of the Package SID flow
    client_id: str  # the Package SID for one of the Package SID flow
    expires_at: float


class Refusal(Exception):
    def __init__(self, answer: Answer, reason: str) -> None:
        super().__init__(reason)
        self.answer = answer
        self.reason = reason


class WnsGateway(Gateway):
    provider = "wns"
    faults = FAULTS

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._tokens: dict[str, IssuedToken] = {}

    def expire_access_tokens(self) -> None:
        """Forget every access token issued: the next notification with one is answered 401."""
        self._tokens.clear()

    async def handle(self, request: Request, note: Note) -> Answer:
        try:
            match = TOKEN_PATH_RE.match(request.path)
            if match is not None:
                return await self._issue_token(request, match["tenant"], note)
            if request.path == LEGACY_TOKEN_PATH:
                return await self._issue_legacy_token(request, note)
            return await self._notify(request, note)
        except Refusal as refusal:
            note.facts["reason"] = refusal.reason
            return refusal.answer

    # The Azure AD token endpoint -------------------------------------------------------------

    async def _issue_token(self, request: Request, tenant_id: str, note: Note) -> Answer:
        note.provider = "wns-token"
        form = request.form()
        secret = form.pop("client_secret", None)
        note.payload = form  # never the secret
        note.target = form.get("client_id")
        self._check_grant(request, form, secret)
        if not await self.directory.wns_tenant_known(tenant_id):
            raise _aad_error(
                400,
                "invalid_request",
                90002,
                f"Tenant '{tenant_id}' not found. Check to make sure you have the correct tenant "
                "ID and are signing into the correct cloud.",
            )
        await self._check_client(tenant_id, form["client_id"], secret or "")
        access_token = f"EwB.sandbox-{secrets.token_urlsafe(48)}"
        self._tokens[access_token] = IssuedToken(
            tenant_id, form["client_id"], time.time() + ACCESS_TOKEN_LIFETIME
        )
        return Answer.json(
            200,
            {
                "token_type": "Bearer",
                "expires_in": ACCESS_TOKEN_LIFETIME,
                "ext_expires_in": ACCESS_TOKEN_LIFETIME,
                "access_token": access_token,
            },
        )

    def _check_grant(self, request: Request, form: dict[str, str], secret: str | None) -> None:
        if request.method != "POST":
            raise _aad_error(
                400, "invalid_request", 900561, "The endpoint only accepts POST requests."
            )
        grant = form.get("grant_type", "")
        if grant != "client_credentials":
            raise _aad_error(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'.",
            )
        for required in ("client_id", "scope"):
            if not form.get(required):
                raise _aad_error(
                    400,
                    "invalid_request",
                    900144,
                    f"The request body must contain the following parameter: '{required}'.",
                )
        if not any(scope in SCOPES for scope in form["scope"].split()):
            raise _aad_error(
                400,
                "invalid_scope",
                70011,
                "The provided request must include a 'scope' input parameter. The provided "
                f"value for the input parameter 'scope' is not valid. The scope {form['scope']} "
                "is not valid.",
            )
        if not secret:
            raise _aad_error(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or "
                "'client_secret'.",
            )

    async def _check_client(self, tenant_id: str, client_id: str, secret: str) -> None:
        digest = secret_digest(secret)
        for fresh in (False, True):
            clients = await self.directory.wns_client_secrets(tenant_id, client_id, fresh=fresh)
            if any(compare_digest(client.digest, digest) for client in clients):
                return
        if not clients:
            raise _aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant_id}'.",
            )
        raise _aad_error(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the "
            f"client secret value, not the client secret ID, for a secret added to app "
            f"'{client_id}'.",
        )

    # The Live token endpoint of the Package SID flow ----------------------------------------

    async def _issue_legacy_token(self, request: Request, note: Note) -> Answer:
        note.provider = "wns-token"
        form = request.form()
        secret = form.pop("client_secret", None)
        note.payload = form  # never the secret
        note.target = form.get("client_id")
        _check_legacy_grant(request, form, secret)
        await self._check_package(form["client_id"], secret or "")
        access_token = f"EgA.sandbox-{secrets.token_urlsafe(48)}"
        self._tokens[access_token] = IssuedToken(
            "", form["client_id"], time.time() + LEGACY_TOKEN_LIFETIME
        )
        return Answer.json(
            200,
            {
                "access_token": access_token,
                "token_type": "bearer",
                "expires_in": LEGACY_TOKEN_LIFETIME,
            },
        )

    async def _check_package(self, package_sid: str, secret: str) -> None:
        digest = secret_digest(secret)
        for fresh in (False, True):
            known = await self.directory.wns_package_secrets(package_sid, fresh=fresh)
            if any(compare_digest(entry.digest, digest) for entry in known):
                return
        if not known:
            raise _live_error("invalid_client", "Invalid client id")
        raise _live_error("invalid_client", "Invalid client secret")

    # Channel URIs ----------------------------------------------------------------------------

    async def _notify(self, request: Request, note: Note) -> Answer:
        host = request.header("host") or ""
        note.target = f"https://{host}{request.path}" + (
            f"?{request.query}" if request.query else ""
        )
        channel_token = request.query_value("token") or request.path.strip("/")
        kind = request.header("x-wns-type") or ""
        note.payload = _payload(request.body, kind)
        if request.method != "POST":
            raise _wns_error(405, "MethodNotAllowed")
        if not channel_token:
            raise _wns_error(404, "NotFound")
        self._authorize(request)
        self._check_headers(request, kind)
        self._check_body(request.body, kind)
        fault = self.fault_plan.fault_for(channel_token)
        if fault is not None:
            await _inject(fault)
            if fault.reason in DROPPING:
                note.facts["reason"] = fault.reason  # answered 200, yet not delivered
        return Answer(200, _accepted_headers(request, fault))

    def _authorize(self, request: Request) -> None:
        token = request.bearer_token()
        issued = self._tokens.get(token or "")
        if issued is None or issued.expires_at < time.time():
            challenge = 'Bearer error="invalid_request",error_description="Invalid token"'
            raise _wns_error(401, "Unauthorized", [("www-authenticate", challenge)])

    def _check_headers(self, request: Request, kind: str) -> None:
        if kind not in TYPES:
            raise _wns_error(400, "BadRequest", detail="X-WNS-Type is missing or not valid.")
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != TYPES[kind][0]:
            raise _wns_error(
                400, "BadRequest", detail=f"{kind} needs Content-Type: {TYPES[kind][0]}."
            )
        ttl = request.header("x-wns-ttl")
        if ttl is not None and not ttl.isdigit():
            raise _wns_error(400, "BadRequest", detail="X-WNS-TTL must be a whole number.")
        policy = request.header("x-wns-cache-policy")
        if policy is not None and policy.lower() not in ("cache", "no-cache"):
            raise _wns_error(400, "BadRequest", detail="X-WNS-Cache-Policy is not valid.")
        for name in ("X-WNS-Tag", "X-WNS-Group"):
            value = request.header(name.lower())
            if value is not None and not TAG_RE.fullmatch(value):
                raise _wns_error(
                    400,
                    "BadRequest",
                    detail=f"{name} must be an alphanumeric string of no more than 16 characters.",
                )

    def _check_body(self, body: bytes, kind: str) -> None:
        if len(body) > MAX_NOTIFICATION:
            raise _wns_error(413, "RequestEntityTooLarge")
        if kind == "wns/raw":
            _check_raw(body)
            return
        root = TYPES[kind][1]
        element = _xml_root(body)
        if element is None or element[0] != root:
            raise _wns_error(
                400, "BadRequest", detail=f"The payload is not well-formed <{root}> XML."
            )
        if kind == "wns/badge":
            _check_badge_value(element[1].get("value"))


def _check_raw(body: bytes) -> None:
    """Refuse an empty raw notification.

    Microsoft's "Raw notification overview": a raw notification carries an app-defined payload
    of up to 5 KB to the app's code. An empty one carries nothing; Microsoft names no answer
    for it, so it gets the closest documented one, 400 Bad Request.
    """
    if not body:
        raise _wns_error(400, "BadRequest", detail="A raw notification needs a payload.")


def _check_badge_value(value: str | None) -> None:
    """Refuse a badge whose value is neither a whole number nor one of Microsoft's glyphs.

    Microsoft's badge schema ("badge" element) and "Badge notifications for Windows apps":
    value is required and is an integer or one of BADGE_GLYPHS; WNS answers a payload outside
    the schema 400 Bad Request.
    """
    if value is None or not (value.isdigit() or value in BADGE_GLYPHS):
        raise _wns_error(
            400,
            "BadRequest",
            detail="The badge value must be a number or a glyph the badge schema names.",
        )


def _payload(body: bytes, kind: str) -> object:
    if kind in TYPES and TYPES[kind][1] is not None:
        return body.decode("utf-8", "replace")
    return parse_json(body)


def _xml_root(body: bytes) -> tuple[str, dict[str, str]] | None:
    """Return the root element's name and attributes of well-formed XML without a DTD."""
    parser = expat.ParserCreate()
    elements: list[tuple[str, dict[str, str]]] = []

    def start(name: str, attributes: dict) -> None:
        elements.append((name, attributes))

    def refuse_dtd(*args: object) -> None:
        # No DTD, so no entity can expand: WNS payloads never need one.
        raise ValueError("a DTD is not allowed")

    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    try:
        parser.Parse(body, True)
    except (expat.ExpatError, ValueError):
        return None
    return elements[0] if elements else None


def _accepted_headers(request: Request, fault: Fault | None) -> list[tuple[str, str]]:
    """Return the headers of a 200.

    X-WNS-Status (received unless a fault drops it), X-WNS-Msg-ID and X-WNS-Debug-Trace always;
    X-WNS-DeviceConnectionStatus when X-WNS-RequestForStatus asks for it.
    """
    status = fault.reason if fault is not None and fault.reason in DROPPING else "received"
    headers = [
        ("x-wns-status", status),
        ("x-wns-msg-id", secrets.token_hex(8).upper()),
        ("x-wns-debug-trace", _debug_trace()),
    ]
    if status == "channelthrottled" and fault is not None and fault.retry_after:
        # Microsoft: X-WNS-Continue-After "is sent ... when a WNS channel is being throttled".
        headers.append(("x-wns-continue-after", str(fault.retry_after)))
    if (request.header("x-wns-requestforstatus") or "").lower() == "true":
        headers.append(("x-wns-deviceconnectionstatus", "connected"))
    return headers


async def _inject(fault: Fault) -> None:
    if fault.delay:
        await asyncio.sleep(fault.delay)
    if fault.status == 200:
        return
    headers = [("retry-after", str(fault.retry_after))] if fault.retry_after else []
    raise _wns_error(
        fault.status, fault.reason, headers, detail=FAULT_DESCRIPTIONS.get(fault.reason, "")
    )


def _wns_error(
    status: int, reason: str, headers: list[tuple[str, str]] | None = None, detail: str = ""
) -> Refusal:
    answer = Answer(
        status,
        [
            ("x-wns-error-description", detail or DESCRIPTIONS[status]),
            ("x-wns-msg-id", secrets.token_hex(8).upper()),
            ("x-wns-debug-trace", _debug_trace()),
            *(headers or []),
        ],
    )
    return Refusal(answer, reason)


def _aad_error(status: int, error: str, code: int, description: str) -> Refusal:
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    document = {
        "error": error,
        "error_description": f"AADSTS{code}: {description}\r\nTrace ID: {trace_id}\r\n"
        f"Correlation ID: {correlation_id}\r\nTimestamp: {now}",
        "error_codes": [code],
        "timestamp": now,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    return Refusal(Answer.json(status, document), error)


def _check_legacy_grant(request: Request, form: dict[str, str], secret: str | None) -> None:
    """Refuse a request that is not the documented shape, as the Live endpoint does."""
    if request.method != "POST":
        raise _live_error("invalid_request", "The request method must be POST.")
    given = {**form, "client_secret": secret or ""}
    for required in ("grant_type", "client_id", "client_secret", "scope"):
        if not given.get(required):
            raise _live_error("invalid_request", f"The '{required}' parameter is missing.")
    if form["grant_type"] != "client_credentials":
        raise _live_error("unsupported_grant_type", "The grant type is not supported.")
    if form["scope"] != LEGACY_SCOPE:
        raise _live_error("invalid_scope", "The provided value for 'scope' is not valid.")


def _live_error(error: str, description: str) -> Refusal:
    """The Live endpoint's refusal: 400 with an OAuth error and its description."""
    return Refusal(Answer.json(400, {"error": error, "error_description": description}), error)


def _debug_trace() -> str:
    return f"SANDBOX{secrets.randbelow(10**9):09d}"

"""The FCM HTTP v1 look-alike and its OAuth2 token endpoint, answered in Google's shapes.

- `POST /token`: the JWT-bearer grant. The assertion must be RS256-signed by the key of the
  service account named by `iss`, for `aud` https://oauth2.googleapis.com/token, at most an
  hour long and current, with the firebase.messaging (or cloud-platform) scope.
- `POST /v1/projects/{project}/messages:send`: a token this gateway issued for that project;
  a JSON body of `message` and `validate_only`; the message's token, data values as strings,
  android.ttl and priority, android.notification's notification_count an integer and tag a
  string, and its content within 4096 bytes. A data-only message is accepted.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from dataclasses import dataclass

import jwt

from devices.sandbox.directory import ServiceAccountKey
from devices.sandbox.faults import Fault
from devices.sandbox.gateway import Answer, Gateway, Note, Request, parse_json

TOKEN_PATH = "/token"
SEND_PATH_RE = re.compile(r"^/v1/projects/(?P<project>[^/]+)/messages:send$")
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
AUDIENCE = "https://oauth2.googleapis.com/token"
MESSAGING_SCOPES = (
    "https://www.googleapis.com/auth/firebase.messaging",
    "https://www.googleapis.com/auth/cloud-platform",
)
ASSERTION_LIFETIME = 3600
CLOCK_SKEW = 60
ACCESS_TOKEN_LIFETIME = 3599
MAX_MESSAGE = 4096
DURATION_RE = re.compile(r"^\d+(\.\d{1,9})?s$")
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
# FCM's error codes and the HTTP status and RPC status each comes with.
ERROR_CODES = {
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT"),
    "UNREGISTERED": (404, "NOT_FOUND"),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED"),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED"),
    "UNAVAILABLE": (503, "UNAVAILABLE"),
    "INTERNAL": (500, "INTERNAL"),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED"),
}
MESSAGES = {
    "UNREGISTERED": "Requested entity was not found.",
    "INVALID_ARGUMENT": "The registration token is not a valid FCM registration token",
    "QUOTA_EXCEEDED": "Quota exceeded for quota metric 'Send requests' and limit "
    "'Send requests per minute' of service 'fcm.googleapis.com'.",
    "UNAVAILABLE": "The service is currently unavailable.",
    "SENDER_ID_MISMATCH": "SenderId mismatch",
}
SEE = "See https://developers.google.com/identity/sign-in/web/devconsole-project."
MISSING_CREDENTIAL = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, "
    f"login cookie or other valid authentication credential. {SEE}"
)
INVALID_CREDENTIAL = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, "
    f"login cookie or other valid authentication credential. {SEE}"
)
SHORT_LIVED = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
    "timeframe. Check your iat and exp values in the JWT claim."
)

FAULTS = (
    Fault("dead-", 404, "UNREGISTERED"),
    Fault("bad-", 400, "INVALID_ARGUMENT"),
    # What every token answers when the service account is of another Firebase project.
    Fault("other-", 403, "SENDER_ID_MISMATCH"),
    Fault("busy-", 429, "QUOTA_EXCEEDED", retry_after=1),
    Fault("fail-", 503, "UNAVAILABLE"),
    Fault("flaky-", 503, "UNAVAILABLE", first_requests=2),
    Fault("slow-", delay=2.0),
)


@dataclass(frozen=True)
class IssuedToken:
    client_email: str
    project_ids: frozenset[str]
    expires_at: float


class Refusal(Exception):
    """An answer other than success, already in Google's shape."""

    def __init__(self, answer: Answer, reason: str) -> None:
        super().__init__(reason)
        self.answer = answer
        self.reason = reason


class FcmGateway(Gateway):
    provider = "fcm"
    faults = FAULTS

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._tokens: dict[str, IssuedToken] = {}

    def expire_access_tokens(self) -> None:
        """Forget every access token issued: the next send with one is answered 401."""
        self._tokens.clear()

    async def handle(self, request: Request, note: Note) -> Answer:
        try:
            if request.path == TOKEN_PATH:
                return await self._issue_token(request, note)
            match = SEND_PATH_RE.match(request.path)
            if match is None:
                note.payload = parse_json(request.body)
                raise Refusal(rpc_error(404, "NOT_FOUND", "Not found."), "NOT_FOUND")
            return await self._send(request, match["project"], note)
        except Refusal as refusal:
            note.facts["reason"] = refusal.reason
            return refusal.answer

    # The OAuth2 token endpoint ---------------------------------------------------------------

    async def _issue_token(self, request: Request, note: Note) -> Answer:
        note.provider = "fcm-token"
        form = request.form()
        assertion = form.pop("assertion", "")
        note.payload = form  # never the assertion
        if request.method != "POST":
            raise Refusal(oauth_error(405, "invalid_request", "POST the grant."), "invalid_request")
        if form.get("grant_type") != JWT_BEARER:
            grant = form.get("grant_type", "")
            raise Refusal(
                oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant}"),
                "unsupported_grant_type",
            )
        if not assertion:
            raise Refusal(
                oauth_error(400, "invalid_request", "Missing required parameter: assertion"),
                "invalid_request",
            )
        claims = _unverified_claims(assertion)
        note.target = claims.get("iss") if isinstance(claims.get("iss"), str) else None
        note.payload = {**form, "claims": {k: claims.get(k) for k in ("iss", "aud", "scope")}}
        project_ids = await self._verify_assertion(assertion, claims)
        access_token = f"ya29.sandbox-{secrets.token_urlsafe(48)}"
        self._tokens[access_token] = IssuedToken(
            claims["iss"], project_ids, time.time() + ACCESS_TOKEN_LIFETIME
        )
        return Answer.json(
            200,
            {
                "access_token": access_token,
                "expires_in": ACCESS_TOKEN_LIFETIME,
                "token_type": "Bearer",
            },
            [("cache-control", "no-cache, no-store, max-age=0, must-revalidate")],
        )

    async def _verify_assertion(self, assertion: str, claims: dict) -> frozenset[str]:
        email = claims.get("iss")
        if not isinstance(email, str) or not email:
            raise _invalid_grant("Invalid JWT: No issuer.")
        if claims.get("aud") != AUDIENCE:
            raise _invalid_grant("Invalid JWT: Failed audience check.")
        issued_at, expires_at, now = claims.get("iat"), claims.get("exp"), time.time()
        if not isinstance(issued_at, int) or not isinstance(expires_at, int):
            raise _invalid_grant(SHORT_LIVED)
        if expires_at - issued_at > ASSERTION_LIFETIME or expires_at < now:
            raise _invalid_grant(SHORT_LIVED)
        if issued_at > now + CLOCK_SKEW:
            raise _invalid_grant(SHORT_LIVED)
        scopes = str(claims.get("scope", "")).split()
        if not any(scope in scopes for scope in MESSAGING_SCOPES):
            raise Refusal(
                oauth_error(
                    400, "invalid_scope", "Invalid OAuth scope or ID token audience provided."
                ),
                "invalid_scope",
            )
        for fresh in (False, True):
            accounts = await self.directory.service_account_keys(email, fresh=fresh)
            projects = frozenset(a.project_id for a in accounts if _signed_by(assertion, a))
            if projects:
                return projects
        if not accounts:
            raise _invalid_grant("Invalid grant: account not found")
        raise _invalid_grant("Invalid JWT Signature.")

    # messages:send ---------------------------------------------------------------------------

    async def _send(self, request: Request, project: str, note: Note) -> Answer:
        body = parse_json(request.body)
        note.payload = body
        self._authorize(request, project)
        if request.method != "POST":
            raise Refusal(rpc_error(405, "METHOD_NOT_ALLOWED", "Use POST."), "METHOD_NOT_ALLOWED")
        message = _check_body(body)
        note.target = message["token"]
        validate_only = bool(body.get("validate_only"))
        if validate_only:
            note.facts["validate_only"] = True
        fault = self.fault_plan.fault_for(message["token"])
        if fault is not None:
            await _inject(fault)
        name = "fake_message_id" if validate_only else _message_id()
        return Answer.json(200, {"name": f"projects/{project}/messages/{name}"})

    def _authorize(self, request: Request, project: str) -> None:
        token = request.bearer_token()
        if token is None:
            raise Refusal(_unauthenticated(MISSING_CREDENTIAL), "UNAUTHENTICATED")
        issued = self._tokens.get(token)
        if issued is None or issued.expires_at < time.time():
            raise Refusal(_unauthenticated(INVALID_CREDENTIAL), "UNAUTHENTICATED")
        if project not in issued.project_ids:
            message = (
                "Permission 'cloudmessaging.messages.create' denied on resource "
                f"'//cloudresourcemanager.googleapis.com/projects/{project}' (or it may not exist)."
            )
            raise Refusal(rpc_error(403, "PERMISSION_DENIED", message), "PERMISSION_DENIED")


def _check_body(body: object) -> dict:
    """Return the message of a well-formed send request, or refuse it as FCM does."""
    if not isinstance(body, dict):
        raise _bad_request("Invalid JSON payload received. Unexpected token.", "")
    for name in body:
        if name not in ("message", "validate_only"):
            raise _bad_request(
                f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.', name
            )
    message = body.get("message")
    if not isinstance(message, dict):
        raise fcm_refusal("INVALID_ARGUMENT", "Request contains an invalid argument.")
    if not isinstance(message.get("token"), str) or not message["token"]:
        raise fcm_refusal("INVALID_ARGUMENT", "Recipient of the message is not set.")
    # FCM's REST reference (Message) requires only the target: notification, data and android
    # are each optional, so a data-only message (no notification) is a message FCM delivers to
    # the app's code ("Firebase Cloud Messaging message types"), and one with only a token is
    # accepted too (the credential check sends one with validate_only).
    _check_string_map(message.get("data"), "message.data")
    android = message.get("android")
    if android is not None:
        _check_android(android)
    if len(_content_bytes(message)) > MAX_MESSAGE:
        raise fcm_refusal("INVALID_ARGUMENT", "Android message is too big")
    return message


def _check_string_map(values: object, field: str) -> None:
    if values is None:
        return
    if not isinstance(values, dict):
        raise _bad_request(f"Invalid value at '{field}' (map), {values!r}", field)
    for position, value in enumerate(values.values()):
        if not isinstance(value, str):
            where = f"{field}[{position}].value"
            raise _bad_request(f"Invalid value at '{where}' (TYPE_STRING), {value}", where)


def _check_android(android: object) -> None:
    if not isinstance(android, dict):
        raise _bad_request("Invalid value at 'message.android'", "message.android")
    ttl = android.get("ttl")
    if ttl is not None and not (isinstance(ttl, str) and DURATION_RE.match(ttl)):
        where = "message.android.ttl"
        raise _bad_request(
            f"Invalid value at '{where}' (type.googleapis.com/google.protobuf.Duration), {ttl}",
            where,
        )
    priority = android.get("priority")
    # FCM's REST reference, AndroidMessagePriority: NORMAL or HIGH; its "Set the priority of a
    # message" sends "priority": "normal" in the v1 JSON, so either case is taken.
    if priority is not None and str(priority).upper() not in ("NORMAL", "HIGH"):
        where = "message.android.priority"
        raise _bad_request(
            f"Invalid value at '{where}' (type.googleapis.com/"
            f"google.firebase.fcm.v1.AndroidMessagePriority), {priority}",
            where,
        )
    _check_string_map(android.get("data"), "message.android.data")
    notification = android.get("notification")
    if notification is not None:
        _check_android_notification(notification)


def _check_android_notification(notification: object) -> None:
    """Refuse an AndroidNotification that is not an object or whose count is not an integer.

    FCM's REST reference (AndroidNotification): notification_count is an integer (int32, which
    the JSON mapping also takes as a string of digits); tag is a string.
    """
    where = "message.android.notification"
    if not isinstance(notification, dict):
        raise _bad_request(f"Invalid value at '{where}'", where)
    count = notification.get("notification_count")
    if count is not None and not _is_int32(count):
        where = f"{where}.notification_count"
        raise _bad_request(f"Invalid value at '{where}' (TYPE_INT32), {count}", where)
    tag = notification.get("tag")
    if tag is not None and not isinstance(tag, str):
        where = f"{where}.tag"
        raise _bad_request(f"Invalid value at '{where}' (TYPE_STRING), {tag}", where)


def _is_int32(value: object) -> bool:
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31


def _content_bytes(message: dict) -> bytes:
    """Return what counts toward FCM's 4096 bytes: the message but its target and options."""
    content = {k: v for k, v in message.items() if k not in ("token", "topic", "condition")}
    android = content.get("android")
    if isinstance(android, dict):
        content["android"] = {k: android[k] for k in ("data", "notification") if k in android}
    return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()


async def _inject(fault: Fault) -> None:
    if fault.delay:
        await asyncio.sleep(fault.delay)
    if fault.status == 200:
        return
    headers = [("retry-after", str(fault.retry_after))] if fault.retry_after else []
    raise fcm_refusal(fault.reason, MESSAGES[fault.reason], headers)


def _unverified_claims(assertion: str) -> dict:
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise _invalid_grant("Invalid JWT Signature.") from None
    if header.get("alg") != "RS256":
        raise _invalid_grant("Invalid JWT Signature.")
    return claims


def _signed_by(assertion: str, account: ServiceAccountKey) -> bool:
    try:
        jwt.decode(
            assertion,
            key=account.public_key,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_aud": False},
        )
    except jwt.InvalidTokenError:
        return False
    return True


def _message_id() -> str:
    return f"0:{int(time.time() * 1000)}%{secrets.token_hex(8)}"


def rpc_error(
    status: int,
    rpc_status: str,
    message: str,
    details: list[dict] | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> Answer:
    """Return a Google API error: {"error": {"code", "message", "status", "details"?}}."""
    error: dict[str, object] = {"code": status, "message": message, "status": rpc_status}
    if details:
        error["details"] = details
    return Answer.json(status, {"error": error}, headers)


def fcm_refusal(
    error_code: str, message: str, headers: list[tuple[str, str]] | None = None
) -> Refusal:
    """Refuse as FCM v1 does: the RPC status and an FcmError detail naming the error code."""
    status, rpc_status = ERROR_CODES[error_code]
    details = [{"@type": FCM_ERROR, "errorCode": error_code}]
    return Refusal(rpc_error(status, rpc_status, message, details, headers), error_code)


def oauth_error(status: int, error: str, description: str) -> Answer:
    return Answer.json(status, {"error": error, "error_description": description})


def _invalid_grant(description: str) -> Refusal:
    return Refusal(oauth_error(400, "invalid_grant", description), "invalid_grant")


def _bad_request(message: str, field: str) -> Refusal:
    violation = {"description": message, **({"field": field} if field else {})}
    details = [{"@type": BAD_REQUEST, "fieldViolations": [violation]}]
    return Refusal(rpc_error(400, "INVALID_ARGUMENT", message, details), "INVALID_ARGUMENT")


def _unauthenticated(message: str) -> Answer:
    header = ("www-authenticate", 'Bearer realm="https://accounts.google.com/"')
    return rpc_error(401, "UNAUTHENTICATED", message, headers=[header])

"""Send to Windows devices through the Windows Push Notification Services (WNS).

As wns-push-quickstart.md shows: an OAuth2 client-credentials token from Azure AD
(``POST {WNS_TOKEN_URL}/{tenant}/oauth2/v2.0/token``, httpx, a few calls a day) or, for a Store
app registered in Partner Center, from the older Live endpoint with its Package SID
(``POST {WNS_LEGACY_TOKEN_URL}``, see LEGACY_SCOPE), then one
``POST`` per notification to the device's channel URI with ``Authorization: Bearer``, all of a
batch in flight at once over the HTTP/2 transport. Tokens are cached per credential for every
client in the process and refreshed five minutes before they expire; a token WNS refuses (401)
is replaced once and the refused notifications are sent once more.

Channel URIs come from devices, so the host allowlist (``settings.WNS_HOSTS``, checked by
``addresses.check_channel_uri``) is enforced again here: a URI that fails it is never
sent to. Each request carries the renderer's ``X-WNS-Type`` with the Content-Type WNS requires
for it, the renderer's other ``X-WNS-*`` headers (``X-WNS-TTL``, ``X-WNS-Tag``,
``X-WNS-Group``, ...) and ``X-WNS-RequestForStatus: true``; no other header of the push is sent.
A tag or group that breaks Microsoft's rule (``is_valid_tag``) is never sent: WNS would refuse
the whole notification with 400 for it.

How WNS's answers are classified, by Microsoft's "Push notification service request and
response headers (Windows Runtime apps)" (learn.microsoft.com, windows/apps/.../
push-request-response-headers): its response-code table and its X-WNS-Status values. WNS has
no reason codes, so ``reason`` is the documented status phrase (or the X-WNS-Status value), and
``detail`` keeps what the page says to log, for every answer that has it, 2xx included:
X-WNS-Status, X-WNS-DeviceConnectionStatus, X-WNS-Error-Description and X-WNS-Debug-Trace;
``provider_id`` is X-WNS-Msg-ID.

====== ======================== ============== ================================================
status reason                   outcome        why
====== ======================== ============== ================================================
200    (none)                   SENT           X-WNS-Status: received, "received and processed
                                               by WNS" (or no X-WNS-Status)
200    channelthrottled         RETRY          X-WNS-Status: channelthrottled, "dropped
                                               because the app server exceeded the rate limit
                                               for this specific channel"; X-WNS-Continue-After
                                               (else Retry-After) honoured
200    dropped                  MESSAGE_FAILED X-WNS-Status: dropped, "explicitly dropped
                                               because of an error or because the client has
                                               explicitly rejected these notifications" (a
                                               toast also while the device is offline); not
                                               delivered, and not the channel's end either
400    Bad Request              MESSAGE_FAILED a header is wrong or conflicts with another
401    Unauthorized             AUTH_FAILED    after one token refresh and one resend
403    Forbidden                AUTH_FAILED    "not authorized to send a notification to this
                                               URI even though they are authenticated": our
                                               credentials, not the device's; never retires it
404    Not Found                DEVICE_GONE    the channel URI is not valid: retire the device
405    Method Not Allowed       MESSAGE_FAILED
406    Not Acceptable           RETRY          we exceeded the throttle limit; Retry-After
410    Domain Blocked           AUTH_FAILED    X-WNS-Error-Description names a blocked domain
                                               ("The sending domain has been blocked by WNS"):
                                               our sender is refused, every channel alike, so
                                               the device is never retired for it
410    Gone                     DEVICE_GONE    the channel expired: retire the device
413    Request Entity Too Large MESSAGE_FAILED "exceeds the 5000 byte size limit"
429    Too Many Requests        RETRY          Retry-After honoured
500    Internal Server Error    RETRY
503    Service Unavailable      RETRY          Retry-After honoured when given
other  2xx                      SENT
other  5xx                      RETRY
other  any other                MESSAGE_FAILED 3xx included: redirects are never followed
0      (transport's error)      DEVICE_RETRY   the channel's host refused the connection,
                                               timed out, did not resolve or failed TLS: each
                                               channel names its own host, so this is the
                                               device's trouble, not WNS's; the transport's
                                               text in detail
--     ChannelNotAllowed (ours) MESSAGE_FAILED the channel URI fails the host allowlist;
                                               never sent
--     InvalidNotification      MESSAGE_FAILED no or an unknown X-WNS-Type, a header value
       (ours)                                  with a line break, or an X-WNS-Tag or
                                               X-WNS-Group that is not alphanumeric and at
                                               most 16 characters; never sent
====== ======================== ============== ================================================

``send`` raises ProviderError only before any notification left: an unreadable client secret
(permanent), or a token request Azure AD (or the Live endpoint of the Package SID flow) refused
(permanent for invalid_client, unauthorized_client and any other 4xx, naming the
error_description) or did not answer (not permanent: 429, 5xx, timeouts, TLS and connection
errors, with their own text). Once notifications have left, every push gets a Result: should
the refresh after a 401 itself fail, the refused pushes are AUTH_FAILED (RETRY when the failure
is not permanent) with the token error as their detail.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import httpx
from django.conf import settings

from devices.providers.addresses import AddressError, check_channel_uri
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
    tls_context,
)
from devices.providers.message import (
    TILE_TEMPLATES,
    Message,
    Payload,
    TileBinding,
    ToastAction,
    ToastInput,
    WindowsOptions,
    custom_data,
    refuse_empty,
    seconds_until,
    without_empty,
)
from devices.providers.tokens import AccessTokenCache
from devices.providers.transport import Request, Response, Transport

__all__ = [
    "TAG_RULE",
    "WnsClient",
    "WnsSecret",
    "classify",
    "clear_token_cache",
    "is_valid_tag",
    "unreadable_secret",
]

# The scope wns-push-quickstart.md requests (Windows App SDK push, Azure AD app registrations).
SCOPE = "https://wns.windows.com/.default"
# Microsoft's "Push notification service request and response headers" (learn.microsoft.com,
# windows/apps/design/shell/tiles-and-notifications/push-request-response-headers), "Access
# token request": a form-encoded POST to https://login.live.com/accesstoken.srf with
# grant_type=client_credentials, client_id the app's Package SID, client_secret its secret key
# (both "assigned when you registered your app with the Microsoft Store") and scope
# notify.windows.com; the answer is JSON access_token, token_type "bearer" and expires_in, and a
# refusal is 400 with an OAuth error such as invalid_client.
LEGACY_SCOPE = "notify.windows.com"
# The Package SID's documented shape: ms-app://s-1-15-2-... (an app container SID).
PACKAGE_SID_PREFIX = "ms-app://s-1-15-2-"
TOKEN_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
VALID_MESSAGE = "WNS issued a token"
MAX_DETAIL = 500

# X-WNS-Type → the Content-Type WNS requires with it.
CONTENT_TYPES = {
    "wns/toast": "text/xml",
    "wns/tile": "text/xml",
    "wns/badge": "text/xml",
    "wns/raw": "application/octet-stream",
}
# Headers this client sets itself; a push's own values for them are ignored.
OWN_HEADERS = frozenset({"authorization", "content-type", "x-wns-type", "x-wns-requestforstatus"})
# Microsoft's "Push notification service request and response headers": X-WNS-Tag and
# X-WNS-Group are each "An alphanumeric string of no more than 16 characters".
TAG_RE = re.compile(r"[A-Za-z0-9]{1,16}")
TAG_RULE = "letters and digits only, at most 16 characters"
LABEL_HEADERS = ("x-wns-tag", "x-wns-group")

# The table above: status → (Microsoft's phrase, outcome).
STATUSES: dict[int, tuple[str, Outcome]] = {
    400: ("Bad Request", Outcome.MESSAGE_FAILED),
    401: ("Unauthorized", Outcome.AUTH_FAILED),  # once the refreshed token was refused as well
    403: ("Forbidden", Outcome.AUTH_FAILED),
    404: ("Not Found", Outcome.DEVICE_GONE),
    405: ("Method Not Allowed", Outcome.MESSAGE_FAILED),
    406: ("Not Acceptable", Outcome.RETRY),
    410: ("Gone", Outcome.DEVICE_GONE),
    413: ("Request Entity Too Large", Outcome.MESSAGE_FAILED),
    429: ("Too Many Requests", Outcome.RETRY),
    500: ("Internal Server Error", Outcome.RETRY),
    503: ("Service Unavailable", Outcome.RETRY),
}
# X-WNS-Status values of a 2xx that mean WNS did not take the notification, in the words of
# Microsoft's "Push notification service request and response headers": value → (outcome, why).
NOT_DELIVERED: dict[str, tuple[Outcome, str]] = {
    "channelthrottled": (
        Outcome.RETRY,
        "WNS dropped it because we exceeded the rate limit for this channel; retry later",
    ),
    "dropped": (
        Outcome.MESSAGE_FAILED,
        "WNS dropped it because of an error or because the app on the device rejects these "
        "notifications; a toast is also dropped while the device is offline",
    ),
}
# The same page's table: "410 Domain Blocked | The sending domain has been blocked by WNS."
DOMAIN_BLOCKED = "Domain Blocked"
CHANNEL_NOT_ALLOWED = "ChannelNotAllowed"
INVALID_NOTIFICATION = "InvalidNotification"

# Azure AD's token errors that no retry can fix (RFC 6749 section 5.2); any other 4xx is too.
PERMANENT_TOKEN_ERRORS = frozenset(
    {"invalid_client", "unauthorized_client", "invalid_grant", "invalid_request", "invalid_scope"}
)


@dataclass(frozen=True, repr=False)
class WnsSecret(Credential):
    """An Azure AD app registration (tenant and client ids) or, when package_sid is given, a
    Store app's Package SID, and the client secret either one authenticates with."""

    client_secret: str
    tenant_id: str = ""
    client_id: str = ""
    package_sid: str = ""


def unreadable_secret(name: str, error: Exception) -> ProviderError:
    """The failure of a client secret that cannot be read: the problem, never the content."""
    return ProviderError(
        f"{name} has an unreadable client secret ({type(error).__name__}); enter the secret again.",
        permanent=True,
    )


class WnsClient:
    """Send WNS notifications for one app's Azure AD app registration or Package SID."""

    def __init__(self, credential: WnsSecret, transport: Transport | None = None) -> None:
        self.credential = credential
        self._transport = transport
        self._owns_transport = transport is None
        self._registration: _Registration | None = None

    def send(self, pushes: Sequence[Push]) -> list[Result]:
        """Send each push to its channel concurrently and classify every answer, in order."""
        results: list[Result | None] = [_refusal(push) for push in pushes]
        allowed = [i for i, result in enumerate(results) if result is None]
        if allowed:
            self._send_allowed(pushes, allowed, results)
        return results  # type: ignore[return-value]  # every index is filled by now

    def validate(self) -> tuple[bool, str]:
        """Prove the credential by obtaining a new token; return (valid, Azure AD's message).

        Raises ProviderError when Azure AD could not be asked (timeouts, 5xx, TLS): that proves
        nothing either way.
        """
        try:
            _TOKENS.renew(self._registration_of())
        except ProviderError as error:
            if error.permanent:
                return False, error.message
            raise
        return True, VALID_MESSAGE

    def close(self) -> None:
        """Close the connections of the transport this client created."""
        if self._owns_transport and self._transport is not None:
            self._transport.close()
            self._transport = None

    def _send_allowed(
        self, pushes: Sequence[Push], allowed: list[int], results: list[Result | None]
    ) -> None:
        registration = self._registration_of()
        token = _TOKENS.get(registration)
        responses = self._post(token, [pushes[i] for i in allowed])
        refused = []
        for i, response in zip(allowed, responses, strict=True):
            results[i] = classify(pushes[i].key, response)
            if response.status == 401:
                refused.append(i)
        if refused:
            self._resend_with_new_token(registration, token, pushes, refused, results)

    def _resend_with_new_token(
        self,
        registration: _Registration,
        refused_token: str,
        pushes: Sequence[Push],
        refused: list[int],
        results: list[Result | None],
    ) -> None:
        """Replace the token WNS refused and send the refused pushes once more."""
        try:
            token = _TOKENS.replace(registration, refused_token)
        except ProviderError as error:
            outcome = Outcome.AUTH_FAILED if error.permanent else Outcome.RETRY
            for i in refused:
                before = results[i]
                assert before is not None
                results[i] = Result(
                    before.key, outcome, before.status, before.reason, error.message
                )
            return
        again = self._post(token, [pushes[i] for i in refused])
        for i, response in zip(refused, again, strict=True):
            results[i] = classify(pushes[i].key, response)

    def _post(self, token: str, pushes: Sequence[Push]) -> list[Response]:
        requests = [
            Request(push.key, "POST", push.target, _headers(push, token), push.body)
            for push in pushes
        ]
        return self._transport_in_use().perform(requests)

    def _transport_in_use(self) -> Transport:
        if self._transport is None:
            self._transport = Transport(ca_bundle=settings.CA_BUNDLE)
        return self._transport

    def _registration_of(self) -> _Registration:
        if self._registration is None:
            self._registration = _Registration.of(self.credential)
        return self._registration


# Before sending --------------------------------------------------------------------------------


def _refusal(push: Push) -> Result | None:
    """Return the Result of a push that must not be sent, or None when it may go."""
    try:
        check_channel_uri(push.target, settings.WNS_HOSTS)
    except AddressError as error:
        return Result(
            push.key,
            Outcome.MESSAGE_FAILED,
            reason=CHANNEL_NOT_ALLOWED,
            detail=f"not sent: the channel URI {error}",
        )
    problem = _header_problem(push.headers)
    if problem:
        return Result(push.key, Outcome.MESSAGE_FAILED, reason=INVALID_NOTIFICATION, detail=problem)
    return None


def is_valid_tag(value: str) -> bool:
    """Tell whether WNS takes the value as an X-WNS-Tag (or X-WNS-Group): TAG_RULE."""
    return TAG_RE.fullmatch(value) is not None


def _header_problem(headers: dict[str, str]) -> str:
    kind = _wns_type(headers)
    if kind not in CONTENT_TYPES:
        known = ", ".join(CONTENT_TYPES)
        return f"not sent: X-WNS-Type is {kind or 'missing'!r}, not one of {known}"
    for name, value in headers.items():
        if any(c in f"{name}{value}" for c in "\r\n\0"):
            return f"not sent: the header {name.strip()[:40]!r} contains a line break"
        if name.lower() in LABEL_HEADERS and not is_valid_tag(value):
            return f"not sent: {name} {value[:40]!r} breaks WNS's rule: {TAG_RULE}"
    return ""


def _wns_type(headers: dict[str, str]) -> str:
    return next((v.strip() for n, v in headers.items() if n.lower() == "x-wns-type"), "")


def _headers(push: Push, token: str) -> dict[str, str]:
    kind = _wns_type(push.headers)
    headers = {
        name: value
        for name, value in push.headers.items()
        if name.lower().startswith("x-wns-") and name.lower() not in OWN_HEADERS
    }
    headers["Authorization"] = f"Bearer {token}"
    headers["X-WNS-Type"] = kind
    headers["Content-Type"] = CONTENT_TYPES[kind]
    headers["X-WNS-RequestForStatus"] = "true"
    return headers


# Answers ---------------------------------------------------------------------------------------


def classify(key: str, response: Response) -> Result:
    """Classify WNS's answer to one notification by the table in the module docstring."""
    if response.status == 0:
        # A channel URI names its own host (db5p.notify.windows.com, ...); one that does not
        # answer says nothing about WNS as a whole, so it must not count against the provider.
        return Result(key, Outcome.DEVICE_RETRY, 0, "", response.error)
    message_id = response.headers.get("x-wns-msg-id", "")
    if 200 <= response.status < 300:
        return _accepted(key, response, message_id)
    reason, outcome = _refusal_reason(response)
    wait = retry_after(response.headers) if outcome in RETRIED else None
    return Result(key, outcome, response.status, reason, _detail(response), wait, message_id)


def _accepted(key: str, response: Response, message_id: str) -> Result:
    """Classify a 2xx by its X-WNS-Status: WNS answers 200 for what it then drops."""
    value = response.headers.get("x-wns-status", "").strip().lower()
    if value not in NOT_DELIVERED:
        return Result(key, Outcome.SENT, response.status, "", _detail(response), None, message_id)
    outcome, why = NOT_DELIVERED[value]
    wait = _continue_after(response.headers) if outcome in RETRIED else None
    detail = _detail(response, why)
    return Result(key, outcome, response.status, value, detail, wait, message_id)


def _continue_after(headers: dict[str, str]) -> float | None:
    """Read X-WNS-Continue-After, the seconds WNS asks a throttled channel to wait."""
    asked = retry_after({"retry-after": headers.get("x-wns-continue-after", "")})
    return asked if asked is not None else retry_after(headers)


def _refusal_reason(response: Response) -> tuple[str, Outcome]:
    if response.status == 410 and _domain_blocked(response.headers):
        return DOMAIN_BLOCKED, Outcome.AUTH_FAILED
    return STATUSES.get(response.status) or _unlisted(response.status)


def _domain_blocked(headers: dict[str, str]) -> bool:
    """Tell a 410 for our blocked sending domain from a 410 for an expired channel.

    HTTP/2 carries no reason phrase, so the description is what tells them apart.
    """
    description = headers.get("x-wns-error-description", "").lower()
    return "domain" in description and "blocked" in description


def _unlisted(status: int) -> tuple[str, Outcome]:
    return f"HTTP {status}", Outcome.RETRY if status >= 500 else Outcome.MESSAGE_FAILED


def _detail(response: Response, why: str = "") -> str:
    """Keep what Microsoft asks to log (status, connection, description, trace), in that order."""
    headers = response.headers
    status = headers.get("x-wns-status", "")
    parts = [f"X-WNS-Status: {status}" + (f" ({why})" if why else "")] if status else []
    if headers.get("x-wns-deviceconnectionstatus"):
        parts.append(f"X-WNS-DeviceConnectionStatus: {headers['x-wns-deviceconnectionstatus']}")
    if headers.get("x-wns-error-description"):
        parts.append(headers["x-wns-error-description"])
    if 300 <= response.status < 400 and headers.get("location"):
        parts.append("redirect not followed")
    if headers.get("x-wns-debug-trace"):
        parts.append(f"X-WNS-Debug-Trace: {headers['x-wns-debug-trace']}")
    return "; ".join(parts)[:MAX_DETAIL]


# Access tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Registration:
    """What a token request needs of a credential; the cache key says whose token it is.

    package_sid set means the Live endpoint's flow (LEGACY_SCOPE), else Azure AD's.
    """

    cache_key: tuple[str, ...]
    tenant_id: str
    client_id: str
    client_secret: str
    package_sid: str = ""

    def __repr__(self) -> str:  # never show the secret, even in a traceback
        if self.package_sid:
            return f"_Registration({self.package_sid!r})"
        return f"_Registration({self.tenant_id!r}, {self.client_id!r})"

    @classmethod
    def of(cls, credential: WnsSecret) -> _Registration:
        """Read the credential's registration; ProviderError (permanent) when unusable."""
        secret = credential.client_secret
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if credential.package_sid:
            if not credential.package_sid.lower().startswith(PACKAGE_SID_PREFIX):
                raise ProviderError(
                    f"{credential.name} has a Package SID that does not start with "
                    f"{PACKAGE_SID_PREFIX}.",
                    permanent=True,
                )
            identity = (
                credential.identity,
                credential.package_sid.lower(),
                digest,
                settings.WNS_LEGACY_TOKEN_URL,
            )
            return cls(identity, "", "", secret, credential.package_sid)
        if not credential.tenant_id or not credential.client_id:
            raise ProviderError(
                f"{credential.name} needs both a tenant ID and an application (client) ID.",
                permanent=True,
            )
        identity = (
            credential.identity,
            credential.tenant_id.lower(),
            credential.client_id.lower(),
            digest,
            settings.WNS_TOKEN_URL,
        )
        return cls(identity, credential.tenant_id, credential.client_id, secret)


def clear_token_cache() -> None:
    """Forget every cached access token (tests; the next send asks Azure AD again)."""
    _TOKENS.clear()


def request_token(registration: _Registration) -> tuple[str, float]:
    """Obtain an access token by the client-credentials grant; return it and its lifetime."""
    if registration.package_sid:
        return _request_legacy_token(registration)
    url = f"{settings.WNS_TOKEN_URL.rstrip('/')}/{quote(registration.tenant_id, safe='')}"
    url += "/oauth2/v2.0/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": registration.client_id,
        "client_secret": registration.client_secret,
        "scope": SCOPE,
    }
    response = _post_form(url, form, "Azure AD's token endpoint")
    return _read_token(
        response, f"Azure AD refused a WNS token for application {registration.client_id}"
    )


def _request_legacy_token(registration: _Registration) -> tuple[str, float]:
    """Obtain a token from the Live endpoint with the Package SID (LEGACY_SCOPE's page)."""
    form = {
        "grant_type": "client_credentials",
        "client_id": registration.package_sid,
        "client_secret": registration.client_secret,
        "scope": LEGACY_SCOPE,
    }
    response = _post_form(
        settings.WNS_LEGACY_TOKEN_URL, form, "WNS's token endpoint (login.live.com)"
    )
    return _read_token(response, f"WNS refused a token for Package SID {registration.package_sid}")


def _post_form(url: str, form: dict[str, str], endpoint: str) -> httpx.Response:
    """POST the token request; ProviderError (not permanent) when the endpoint cannot be asked."""
    try:
        with httpx.Client(
            timeout=TOKEN_TIMEOUT, follow_redirects=False, verify=tls_context()
        ) as client:
            return client.post(url, data=form)
    except httpx.TimeoutException as error:
        raise ProviderError(
            f"{endpoint} did not answer in time: {error}", permanent=False
        ) from error
    except httpx.HTTPError as error:
        raise ProviderError(
            f"could not reach {endpoint}: {type(error).__name__}: {error}", permanent=False
        ) from error


_TOKENS: AccessTokenCache = AccessTokenCache(request_token)


def _read_token(response: httpx.Response, refused: str) -> tuple[str, float]:
    document = _json_object(response)
    if response.status_code == 200 and document.get("access_token"):
        try:
            lifetime = float(document.get("expires_in") or 3600)  # a string in Microsoft's sample
        except (TypeError, ValueError):
            lifetime = 3600.0
        return str(document["access_token"]), lifetime
    error = str(document.get("error") or f"HTTP {response.status_code}")
    description = _one_line(str(document.get("error_description") or ""))[:MAX_DETAIL]
    said = f"{error} ({description})" if description else error
    transient = response.status_code == 429 or response.status_code >= 500
    raise ProviderError(
        f"{refused}: {said}",
        permanent=error in PERMANENT_TOKEN_ERRORS
        or (not transient and 400 <= response.status_code < 500),
    )


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# Rendering -------------------------------------------------------------------------------------
# Adaptive toast XML (``binding template="ToastGeneric"``), tile XML (one binding per tile size)
# or badge XML, sent as ``text/xml``, or a raw notification's bytes as
# ``application/octet-stream``, with ``X-WNS-Type`` and ``X-WNS-TTL``. Microsoft's "Push
# notification service request and response headers" gives each X-WNS-Type its Content-Type.
#
# ================= =========== ========================= ========================================
# kind              X-WNS-Type  Content-Type              body
# ================= =========== ========================= ========================================
# standard, toast   wns/toast   text/xml                  <toast>; custom data in launch
# tile              wns/tile    text/xml                  <tile>
# badge             wns/badge   text/xml                  <badge value="N or glyph"/>
# silent            wns/raw     application/octet-stream  the custom data as compact UTF-8 JSON
# ================= =========== ========================= ========================================

NAME = "WNS"
# Microsoft's 413 answer: "The notification payload exceeds the 5000 byte size limit."
LIMIT = 5000
# wns-push-quickstart.md: a channel URI expires after 30 days; the app requests a new one and
# registers it again (devices.registration keeps channel_expires_at).

# Characters XML 1.0 cannot carry even escaped; left in, they make WNS reject the whole document.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Keys we set ourselves in a raw notification and a toast's launch arguments: custom data must
# not forge them (a forged tracking_id would credit a launch to another notification).
RAW_OWN_KEYS = frozenset({"tracking_id", "url"})
LAUNCH_OWN_KEYS = frozenset({"tracking_id"})


def render(message: Message, token: str = "", now: datetime | None = None) -> Payload:
    """Render the notification the message's kind makes: tile, badge, raw or (else) toast."""
    refuse_empty(message, "WNS", glyph=True)
    wns_type, body = _wns_body(message)
    return Payload("windows", NAME, body, _wns_headers(wns_type, message, now), LIMIT)


def _wns_body(message: Message) -> tuple[str, bytes]:
    """Return the X-WNS-Type and the body for the message's kind."""
    if message.kind == "silent":
        return "wns/raw", _raw(message)
    if message.kind == "tile":
        document, wns_type = _tile(message), "wns/tile"
    elif message.kind == "badge":
        document, wns_type = _badge(message), "wns/badge"
    else:
        document, wns_type = _toast(message), "wns/toast"
    return wns_type, ElementTree.tostring(document, encoding="unicode").encode("utf-8")


def _raw(message: Message) -> bytes:
    """Return a raw notification's body: the custom data (and our keys, when given) as JSON.

    Microsoft's "Raw notification overview": the payload of a raw notification is app-defined
    and reaches the app's code, never the screen.
    """
    own = {"url": message.url, "tracking_id": message.tracking_id}
    data = {**custom_data(message, RAW_OWN_KEYS), **without_empty(own)}
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _badge(message: Message) -> ElementTree.Element:
    """Build the badge: a glyph when one is set, else the number.

    Microsoft's "Badge notifications for Windows apps": the value is a number (0 clears the
    badge, over 99 shows 99+) or one of the system glyphs (BADGE_GLYPHS).
    """
    value = message.badge_glyph or str(message.badge)
    return _element("badge", {"value": value})


def _wns_headers(wns_type: str, message: Message, now: datetime | None) -> dict[str, str]:
    """Build the headers; without X-WNS-TTL WNS keeps the notification until it is delivered."""
    headers = {"X-WNS-Type": wns_type, "Content-Type": CONTENT_TYPES[wns_type]}
    tag = _wns_tag(wns_type, message.collapse_id)
    if tag:
        headers["X-WNS-Tag"] = tag
    if message.expires_at is not None:
        headers["X-WNS-TTL"] = str(seconds_until(message.expires_at, now))
    return headers


def _wns_tag(wns_type: str, collapse_id: str) -> str:
    """Return the X-WNS-Tag to send, or "" for none.

    Microsoft's "Push notification service request and response headers" says X-WNS-Tag is
    "used only when sending tile notifications" and is "An alphanumeric string of no more than
    16 characters". The composer refuses a tile's collapse id that breaks the rule; one that
    still does (stored before the rule) is left off, since WNS answers 400 for the whole
    notification and a tag only decides which queued tile a newer one replaces.
    """
    if wns_type != "wns/tile" or not is_valid_tag(collapse_id):
        return ""
    return collapse_id


def _element(
    tag: str, attributes: dict[str, str] | None = None, text: str = ""
) -> ElementTree.Element:
    """Make an element from non-empty attributes; ElementTree escapes every value it writes."""
    clean = {name: _xml_safe(value) for name, value in (attributes or {}).items() if value}
    element = ElementTree.Element(tag, clean)
    element.text = _xml_safe(text) or None
    return element


def _xml_safe(value: str) -> str:
    """Remove the control characters XML cannot represent."""
    return XML_ILLEGAL.sub("", value)


def _flag(value: bool) -> str:
    """Write a true boolean attribute; false is every attribute's default, so it is left out."""
    return "true" if value else ""


def _visual(options: WindowsOptions) -> ElementTree.Element:
    """Make the visual element shared by toasts and tiles."""
    attributes = {"baseUri": options.base_uri, "addImageQuery": _flag(options.add_image_query)}
    return _element("visual", attributes)


def _toast(message: Message) -> ElementTree.Element:
    """Build the toast: visual, then audio, then actions, the order the schema requires."""
    toast = _element("toast", _toast_attributes(message))
    toast.append(_toast_visual(message))
    for part in (_toast_audio(message.windows), _toast_actions(message.windows)):
        if part is not None:
            toast.append(part)
    return toast


def _toast_attributes(message: Message) -> dict[str, str]:
    """Return the toast element's attributes; scenario is written only when not the default."""
    options = message.windows
    return {
        "launch": _toast_launch(message),
        "activationType": options.activation_type,
        "duration": options.duration,
        "scenario": "" if options.scenario == "default" else options.scenario,
    }


def _toast_launch(message: Message) -> str:
    """Return the launch arguments with the custom data and then the tracking id appended.

    The app reads the custom data from the launch arguments when the toast is tapped. A
    protocol launch is a URI to another app or the Store rather than a launch of this app, so
    it is left unchanged and carries neither.
    """
    launch = message.windows.launch
    if message.windows.activation_type == "protocol":
        return launch
    # Quoted so a key, a value or an id can never add or replace launch arguments.
    pairs = custom_data(message, LAUNCH_OWN_KEYS)
    if message.tracking_id:
        pairs["tracking_id"] = message.tracking_id
    arguments = [f"{quote(key, safe='')}={quote(value, safe='')}" for key, value in pairs.items()]
    return "&".join([launch, *arguments] if launch else arguments)


def _toast_visual(message: Message) -> ElementTree.Element:
    """Build the visual with one ToastGeneric binding.

    Windows shows the first text as the title and the next two as body lines, so the texts are
    title, body, subtitle: the body must not be pushed below a subtitle into a line that the
    collapsed toast may hide. The image is inline (shown whole under the text, as Android's
    big picture is) rather than hero, which crops it to 2:1.
    """
    binding = _element("binding", {"template": "ToastGeneric"})
    for text in (message.title, message.body, message.subtitle):
        if text:
            binding.append(_element("text", text=text))
    image = message.windows.image or message.image_url
    if image:
        binding.append(_element("image", {"src": image}))
    visual = _visual(message.windows)
    visual.append(binding)
    return visual


def _toast_audio(options: WindowsOptions) -> ElementTree.Element | None:
    """Build the audio element; a silent toast needs one even without a sound of its own."""
    if not options.audio and not options.audio_silent:
        return None
    attributes = {
        "src": options.audio,
        "loop": _flag(options.audio_loop),
        "silent": _flag(options.audio_silent),
    }
    return _element("audio", attributes)


def _toast_actions(options: WindowsOptions) -> ElementTree.Element | None:
    """Build the actions element: inputs first, then buttons, as the schema orders them."""
    if not options.inputs and not options.actions:
        return None
    actions = _element("actions")
    actions.extend(_input_element(toast_input) for toast_input in options.inputs)
    actions.extend(_action_element(action) for action in options.actions)
    return actions


def _input_element(toast_input: ToastInput) -> ElementTree.Element:
    """Build an input, with its selection children when it is a selection list."""
    attributes = {
        "id": toast_input.id,
        "type": toast_input.type,
        "title": toast_input.title,
        "placeHolderContent": toast_input.placeholder,
        "defaultInput": toast_input.default,
    }
    element = _element("input", attributes)
    for selection_id, content in toast_input.selections:
        element.append(_element("selection", {"id": selection_id, "content": content}))
    return element


def _action_element(action: ToastAction) -> ElementTree.Element:
    """Build a button."""
    attributes = {
        "content": action.content,
        "arguments": action.arguments,
        "activationType": action.activation_type,
        "hint-inputId": action.input_id,
        "imageUri": action.image_uri,
    }
    return _element("action", attributes)


def _tile(message: Message) -> ElementTree.Element:
    """Build the tile: one binding per size; tiles open the app plainly, so carry no tracking."""
    if not message.windows.tiles:
        raise ValueError("A tile message needs at least one TileBinding in WindowsOptions.tiles.")
    visual = _visual(message.windows)
    visual.extend(_tile_binding(binding) for binding in message.windows.tiles)
    tile = _element("tile")
    tile.append(visual)
    return tile


def _tile_binding(binding: TileBinding) -> ElementTree.Element:
    """Build one size's binding: a background image, then the first text as a heading."""
    element = _element("binding", {"template": TILE_TEMPLATES[binding.size]})
    if binding.image:
        element.append(_element("image", {"src": binding.image, "placement": "background"}))
    for index, text in enumerate(binding.texts):
        style = "base" if index == 0 else "captionSubtle"
        element.append(_element("text", {"hint-style": style}, text))
    return element


def expired_channel(device: Any, now: datetime) -> str:
    """Say why a device's channel URI may no longer be used, or "" while it is current."""
    expires = device.channel_expires_at
    if expires is None or expires > now:
        return ""
    return (
        f"not sent: the channel URI expired on {expires:%Y-%m-%d %H:%M} UTC, 30 days after the "
        "app last registered it"
    )


PROVIDER = Provider(
    platform="windows",
    name=NAME,
    credential="wns_credential",
    client=WnsClient,
    render=render,
    limit=LIMIT,
    address="channel_uri",
    retired_as=AddressGone.CHANNEL_EXPIRED,
    default_kind="toast",
    address_expired=expired_channel,
)

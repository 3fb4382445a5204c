"""Send to Android devices through Firebase Cloud Messaging's HTTP v1 API.

One request per device (``POST {FCM_URL}/v1/projects/{project}/messages:send``), all of a batch
in flight at once over the HTTP/2 transport; no legacy or batch API. Each request carries an
OAuth2 access token obtained from the service account: a PyJWT-signed RS256 assertion exchanged
at ``settings.FCM_TOKEN_URL`` (httpx; a few calls an hour). Tokens are cached per credential for
every client in the process and refreshed five minutes before they expire; a token FCM refuses
(UNAUTHENTICATED) is replaced once and the refused pushes are sent once more.

The body of each push is the FCM v1 message ``render`` below makes, the device token
already in ``message.token``; it goes on the wire as it came.

How FCM's answers are classified (FCM v1 ``ErrorCode``; ``error.details[].errorCode`` of type
``google.firebase.fcm.v1.FcmError`` is read first, else ``error.status``):

====================== ====== ============== ====================================================
reason                 status outcome        why
====================== ====== ============== ====================================================
(none)                 200    SENT           ``name`` of the answer is the message id
UNREGISTERED           404    DEVICE_GONE    app uninstalled or token expired: retire the device
INVALID_ARGUMENT       400    DEVICE_GONE    when the message says the registration token is
                                             invalid / not a valid FCM registration token
INVALID_ARGUMENT       400    MESSAGE_FAILED any other invalid field of the message
SENDER_ID_MISMATCH     403    AUTH_FAILED    the token belongs to another Firebase project
                                             than the service account's: a credential
                                             problem, never a reason to retire the device
QUOTA_EXCEEDED         429    RETRY          Retry-After honoured
UNAVAILABLE            503    RETRY          Retry-After honoured when given
INTERNAL               500    RETRY
THIRD_PARTY_AUTH_ERROR 401    AUTH_FAILED    the APNs certificate or key in Firebase is refused
UNAUTHENTICATED        401    AUTH_FAILED    after one token refresh and one resend
PERMISSION_DENIED      403    AUTH_FAILED    the service account may not send for the project
other status           429    RETRY          as are 5xx, timeouts and connection/TLS errors
other status           401    AUTH_FAILED    after one token refresh and one resend
other status           403    AUTH_FAILED
other status           4xx    MESSAGE_FAILED e.g. NOT_FOUND without FcmError: a wrong project id,
                                             not a device to retire
====================== ====== ============== ====================================================

``send`` raises ProviderError only before any push left: an unreadable service account
(permanent), or a token request Google refused (permanent for invalid_grant,
unauthorized_client and other 4xx) or did not answer (not permanent: 429, 5xx, timeouts, TLS and
connection errors, with their own text). Once pushes have left, every push gets a Result: should
the refresh after an UNAUTHENTICATED answer itself fail, the refused pushes are AUTH_FAILED (or
RETRY when the failure is not permanent) with the token error as their detail.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import jwt
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
    tls_context,
)
from devices.providers.message import (
    Message,
    Payload,
    custom_data,
    refuse_empty,
    refuse_tile,
    seconds_until,
    without_empty,
)
from devices.providers.tokens import AccessTokenCache
from devices.providers.transport import Request, Response, Transport

__all__ = ["FcmClient", "FcmServiceAccount", "unreadable_service_account"]

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600  # seconds; Google accepts at most an hour
TOKEN_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
# validate() sends a validate_only message to this made-up token: FCM either accepts it (nothing
# is delivered) or refuses the token, and both prove the credential.
VALIDATION_TOKEN = "push-center-credential-check"

# Google's token-endpoint errors that no retry can fix (RFC 6749 section 5.2 and Google's docs).
PERMANENT_TOKEN_ERRORS = frozenset({"invalid_grant", "unauthorized_client", "invalid_client"})

# The table above, for the reasons that classify without looking further.
OUTCOMES: dict[str, Outcome] = {
    "UNREGISTERED": Outcome.DEVICE_GONE,
    # A wrong service account answers this for every device; retiring them would empty the
    # audience. The pause and the app page say so instead (devices/provider_health.py).
    "SENDER_ID_MISMATCH": Outcome.AUTH_FAILED,
    "INVALID_ARGUMENT": Outcome.MESSAGE_FAILED,  # DEVICE_GONE when it blames the token
    "QUOTA_EXCEEDED": Outcome.RETRY,
    "RESOURCE_EXHAUSTED": Outcome.RETRY,  # error.status of QUOTA_EXCEEDED
    "UNAVAILABLE": Outcome.RETRY,
    "INTERNAL": Outcome.RETRY,
    "THIRD_PARTY_AUTH_ERROR": Outcome.AUTH_FAILED,
    "UNAUTHENTICATED": Outcome.AUTH_FAILED,  # once the refreshed token was refused as well
    "PERMISSION_DENIED": Outcome.AUTH_FAILED,
}
INVALID_TOKEN_MESSAGE = re.compile(
    r"registration token.*(not a valid|invalid)|invalid registration token", re.IGNORECASE
)


@dataclass(frozen=True, repr=False)
class FcmServiceAccount(Credential):
    """A Firebase service account: its JSON key file and the project to send for."""

    project_id: str  # "" for the key file's own project
    key_file: str  # the JSON text Google issued


def unreadable_service_account(name: str, error: Exception) -> ProviderError:
    """The failure of a key file that cannot be read: the problem, never the content."""
    return ProviderError(
        f"{name} has an unreadable service account ({type(error).__name__}); "
        "upload the JSON key file again.",
        permanent=True,
    )


class FcmClient:
    """Send FCM HTTP v1 messages for one app's service account."""

    def __init__(self, credential: FcmServiceAccount, transport: Transport | None = None) -> None:
        self.credential = credential
        self._transport = transport
        self._owns_transport = transport is None
        self._account: _ServiceAccount | None = None

    def send(self, pushes: Sequence[Push]) -> list[Result]:
        """Send each push to its device concurrently and classify every answer, in order."""
        if not pushes:
            return []
        account = self._service_account()
        token = _TOKENS.get(account)
        responses = self._post(account, token, pushes)
        results = [
            classify(push.key, response) for push, response in zip(pushes, responses, strict=True)
        ]
        refused = [i for i, response in enumerate(responses) if _token_refused(response)]
        if refused:
            self._resend_with_new_token(account, token, pushes, refused, results)
        return results

    def validate(self) -> tuple[bool, str]:
        """Prove the credential with a validate_only message; return (valid, Google's message).

        Raises ProviderError when Google could not be asked (timeouts, 5xx, TLS): that proves
        nothing either way.
        """
        try:
            account = self._service_account()
            _TOKENS.get(account)
        except ProviderError as error:
            if error.permanent:
                return False, error.message
            raise
        result = self.send([probe(VALIDATION_TOKEN)])[0]
        return _judge_validation(result, account.project_id)

    def close(self) -> None:
        """Close the connections of the transport this client created."""
        if self._owns_transport and self._transport is not None:
            self._transport.close()
            self._transport = None

    def _resend_with_new_token(
        self,
        account: _ServiceAccount,
        refused_token: str,
        pushes: Sequence[Push],
        refused: list[int],
        results: list[Result],
    ) -> None:
        """Replace the token FCM refused and send the refused pushes once more."""
        try:
            token = _TOKENS.replace(account, refused_token)
        except ProviderError as error:
            outcome = Outcome.AUTH_FAILED if error.permanent else Outcome.RETRY
            for i in refused:
                results[i] = Result(
                    pushes[i].key, outcome, results[i].status, results[i].reason, error.message
                )
            return
        again = self._post(account, token, [pushes[i] for i in refused])
        for i, response in zip(refused, again, strict=True):
            results[i] = classify(pushes[i].key, response)

    def _post(self, account: _ServiceAccount, token: str, pushes: Sequence[Push]) -> list[Response]:
        url = f"{settings.FCM_URL.rstrip('/')}/v1/projects/{quote(account.project_id, safe='')}"
        url += "/messages:send"
        requests = [
            Request(push.key, "POST", url, _headers(push, token), push.body) for push in pushes
        ]
        return self._transport_in_use().perform(requests)

    def _transport_in_use(self) -> Transport:
        if self._transport is None:
            self._transport = Transport(ca_bundle=settings.CA_BUNDLE)
        return self._transport

    def _service_account(self) -> _ServiceAccount:
        if self._account is None:
            self._account = _ServiceAccount.of(self.credential)
        return self._account


# Answers ---------------------------------------------------------------------------------------


def classify(key: str, response: Response) -> Result:
    """Classify FCM's answer to one message by the table in the module docstring."""
    if response.status == 0:
        return Result(key, Outcome.RETRY, 0, "", response.error)
    if response.status == 200:
        return Result(key, Outcome.SENT, 200, provider_id=_message_name(response.body))
    error = _error_of(response.body)
    reason = _reason(error) or f"HTTP {response.status}"
    message = str(error.get("message") or "")[:500]
    outcome = _outcome(response.status, reason, error)
    wait = retry_after(response.headers) if outcome in RETRIED else None
    return Result(key, outcome, response.status, reason, message, wait)


def _outcome(status: int, reason: str, error: dict[str, Any]) -> Outcome:
    if reason == "INVALID_ARGUMENT" and _blames_token(error):
        return Outcome.DEVICE_GONE
    if reason in OUTCOMES:
        return OUTCOMES[reason]
    if status == 429 or status >= 500:
        return Outcome.RETRY
    if status in (401, 403):
        return Outcome.AUTH_FAILED
    return Outcome.MESSAGE_FAILED


def _token_refused(response: Response) -> bool:
    """Tell whether FCM refused our access token (not Apple's credentials: THIRD_PARTY_AUTH)."""
    if response.status != 401:
        return False
    reason = _reason(_error_of(response.body))
    return reason in ("UNAUTHENTICATED", "")


def _error_of(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        return {}
    error = document.get("error") if isinstance(document, dict) else None
    return error if isinstance(error, dict) else {}


def _reason(error: dict[str, Any]) -> str:
    """Return FCM's own error code, else the status of Google's error, else ''."""
    for detail in _details(error):
        if detail.get("@type") == FCM_ERROR_TYPE and detail.get("errorCode"):
            return str(detail["errorCode"])
    return str(error.get("status") or "")


def _blames_token(error: dict[str, Any]) -> bool:
    """Tell whether an INVALID_ARGUMENT answer is about the registration token."""
    if INVALID_TOKEN_MESSAGE.search(str(error.get("message") or "")):
        return True
    for detail in _details(error):
        for violation in detail.get("fieldViolations") or ():
            if isinstance(violation, dict) and violation.get("field") == "message.token":
                return True
    return False


def _details(error: dict[str, Any]) -> list[dict[str, Any]]:
    details = error.get("details")
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _message_name(body: bytes) -> str:
    try:
        document = json.loads(body)
    except ValueError:
        return ""
    return str(document.get("name") or "") if isinstance(document, dict) else ""


def _headers(push: Push, token: str) -> dict[str, str]:
    ours = {"authorization", "content-type"}
    headers = {name: value for name, value in push.headers.items() if name.lower() not in ours}
    headers["Authorization"] = f"Bearer {token}"
    headers["Content-Type"] = "application/json"
    return headers


def _judge_validation(result: Result, project_id: str) -> tuple[bool, str]:
    said = f"{result.reason}: {result.detail}" if result.detail else result.reason
    if result.outcome == Outcome.SENT:
        return True, f"FCM accepted a validate_only message for project {project_id}."
    if result.outcome == Outcome.DEVICE_GONE:
        return True, (
            f"FCM accepted the service account for project {project_id} "
            f"(it refused only the made-up device token: {said}). Not proved by that: that "
            "the app's devices registered tokens of this project."
        )
    if result.outcome == Outcome.RETRY:
        raise ProviderError(f"FCM could not check the credential now: {said}", permanent=False)
    return False, said


# Access tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ServiceAccount:
    """What a token request needs of a service account; the cache key says whose it is."""

    cache_key: tuple[str, ...]
    project_id: str
    client_email: str
    private_key: str

    def __repr__(self) -> str:  # never show the key, even in a traceback
        return f"_ServiceAccount({self.client_email!r})"

    @classmethod
    def of(cls, credential: FcmServiceAccount) -> _ServiceAccount:
        """Read the credential's service account; ProviderError (permanent) when unusable."""
        raw = credential.key_file
        try:
            account = json.loads(raw)
            client_email = account["client_email"]
            private_key = account["private_key"]
        except (KeyError, TypeError, ValueError) as error:
            raise unreadable_service_account(credential.name, error) from None
        project_id = credential.project_id or str(account.get("project_id") or "")
        if not project_id:
            raise ProviderError(f"{credential.name} names no Firebase project.", permanent=True)
        digest = hashlib.sha256(raw.encode()).hexdigest()
        identity = (credential.identity, digest, settings.FCM_TOKEN_URL)
        return cls(identity, project_id, client_email, private_key)

    def assertion(self, now: int) -> str:
        claims = {
            "iss": self.client_email,
            "scope": SCOPE,
            "aud": settings.FCM_TOKEN_AUDIENCE,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        }
        try:
            return jwt.encode(claims, self.private_key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as error:
            raise ProviderError(
                f"the service account {self.client_email}'s private key cannot sign "
                f"({type(error).__name__}); upload the JSON key file again.",
                permanent=True,
            ) from None


def request_token(account: _ServiceAccount) -> tuple[str, float]:
    """Exchange a signed assertion for an access token; return it and its lifetime in seconds."""
    form = {"grant_type": GRANT_TYPE, "assertion": account.assertion(int(time.time()))}
    try:
        with httpx.Client(
            timeout=TOKEN_TIMEOUT, follow_redirects=False, verify=tls_context()
        ) as client:
            response = client.post(settings.FCM_TOKEN_URL, data=form)
    except httpx.TimeoutException as error:
        raise ProviderError(
            f"Google's token endpoint did not answer in time: {error}", permanent=False
        ) from error
    except httpx.HTTPError as error:
        raise ProviderError(
            f"could not reach Google's token endpoint: {type(error).__name__}: {error}",
            permanent=False,
        ) from error
    return _read_token(response, account.client_email)


_TOKENS: AccessTokenCache = AccessTokenCache(request_token)


def _read_token(response: httpx.Response, client_email: str) -> tuple[str, float]:
    try:
        document = response.json()
    except ValueError:
        document = {}
    document = document if isinstance(document, dict) else {}
    if response.status_code == 200 and document.get("access_token"):
        return str(document["access_token"]), float(document.get("expires_in") or 3600)
    error = str(document.get("error") or f"HTTP {response.status_code}")
    description = str(document.get("error_description") or "")
    said = f"{error} ({description})" if description else error
    if error not in PERMANENT_TOKEN_ERRORS and (
        response.status_code == 429 or response.status_code >= 500
    ):
        raise ProviderError(
            f"Google's token endpoint could not give a token for {client_email} now "
            f"(HTTP {response.status_code}): {said}",
            permanent=False,
        )
    raise ProviderError(
        f"Google refused a token for {client_email}: {said}",
        permanent=400 <= response.status_code < 500 or error in PERMANENT_TOKEN_ERRORS,
    )


# Rendering -------------------------------------------------------------------------------------
# The HTTP v1 ``messages:send`` body, ``{"message": {...}}``, whose ``data`` values are all strings
# and whose ``android.ttl`` is a duration such as ``"3600s"`` (FCM's REST reference, Message).
#
# ========= ======================================== ==========================================
# kind      message                                  android
# ========= ======================================== ==========================================
# standard, notification (title, body, image) and    priority, collapse_key, ttl; notification
# toast     data                                     (sound, notification_count, channel_id,
#                                                    click_action, tag)
# badge     data only, with "badge": "N"             priority, collapse_key, ttl
# silent    data only                                priority, collapse_key, ttl
# ========= ======================================== ==========================================

NAME = "FCM"
LIMIT = 4096  # bytes; FCM: "the maximum payload for both message types is 4096 bytes"

# Keys we set ourselves: the apps read them, so custom data must not be able to forge them.
FCM_OWN_KEYS = frozenset({"tracking_id", "url", "subtitle"})
# FCM answers INVALID_ARGUMENT for these data keys; refusing them here says which key it was.
FCM_RESERVED_KEYS = frozenset({"from", "notification", "message_type"})
FCM_RESERVED_PREFIXES = ("google", "gcm")
# FCM keeps a message at most four weeks; a longer ttl is refused.
FCM_MAX_TTL_SECONDS = 28 * 24 * 3600
# FCM's "Set the priority of a message": android.priority "normal" or "high" in the v1 JSON
# (AndroidMessagePriority NORMAL, HIGH); high may wake a dozing device, normal waits.
ANDROID_PRIORITIES = {"high": "high", "normal": "normal"}


def render(message: Message, token: str = "", now: datetime | None = None) -> Payload:
    """Render the FCM HTTP v1 messages:send body; pass token="" when only measuring."""
    refuse_tile(message, "FCM")
    refuse_empty(message, "FCM")
    document = {"message": without_empty(_fcm_message(message, token, now))}
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Payload("android", NAME, body, {"Content-Type": "application/json"}, LIMIT)


def _fcm_message(message: Message, token: str, now: datetime | None) -> dict[str, object]:
    """Build the Message resource: a data message for silent and badge, else a notification.

    FCM's "Firebase Cloud Messaging message types": a data message has only custom key-value
    pairs and is handled by the app's code, shown to no one unless the app shows it.
    """
    if message.kind in ("silent", "badge"):
        return {
            "token": token,
            "data": _fcm_data(message),
            "android": _fcm_android(message, now, {}),
        }
    return {
        "token": token,
        "notification": without_empty(
            {"title": message.title, "body": message.body, "image": message.image_url}
        ),
        "data": _fcm_data(message),
        "android": _fcm_android(message, now, _fcm_android_notification(message)),
    }


def _fcm_data(message: Message) -> dict[str, str]:
    """Build the data map; the tap URL travels here for the app's launcher activity to open."""
    for key in message.custom_data:
        _refuse_fcm_reserved(key)
    own = {"subtitle": message.subtitle, "url": message.url, "tracking_id": message.tracking_id}
    if message.kind == "badge":
        # Android has no badge-only notification: the app reads "badge" from this data message
        # and sets its launcher badge itself (AndroidNotification.notification_count only
        # travels with a notification that is shown). Set after the custom data, so it wins.
        own["badge"] = str(message.badge)
    return {**custom_data(message, FCM_OWN_KEYS), **without_empty(own)}


def _refuse_fcm_reserved(key: str) -> None:
    """Refuse a data key FCM reserves for itself."""
    if key in FCM_RESERVED_KEYS or key.lower().startswith(FCM_RESERVED_PREFIXES):
        raise ValueError(f"Custom data may not use the key {key!r}: FCM reserves it.")


def _fcm_android_notification(message: Message) -> dict[str, object]:
    """Build the AndroidNotification of a shown notification.

    FCM's REST reference (AndroidNotification): a notification with the same ``tag`` replaces
    the one shown; ``notification_count`` is the count the launcher may show on the app's icon.
    """
    return without_empty(
        {
            "sound": message.sound,
            "notification_count": message.badge,
            "channel_id": message.android_channel,
            "click_action": message.android_click_action,
            "tag": message.android_tag,
        }
    )


def _fcm_android(
    message: Message, now: datetime | None, notification: dict[str, object]
) -> dict[str, object]:
    """Build the AndroidConfig: the message's priority, collapse key, time to live."""
    android: dict[str, object] = {
        "priority": ANDROID_PRIORITIES[message.priority],
        "collapse_key": message.collapse_id,
        "notification": notification,
    }
    if message.expires_at is not None:
        seconds = min(seconds_until(message.expires_at, now), FCM_MAX_TTL_SECONDS)
        android["ttl"] = f"{seconds}s"
    return without_empty(android)


def probe(token: str) -> Push:
    """Make the silent check for a registered device: a validate_only message, never delivered.

    FCM's REST reference (messages.send): validate_only tests the request without delivering
    it; a token of another project answers SENDER_ID_MISMATCH, a gone one UNREGISTERED.
    """
    body = {"validate_only": True, "message": {"token": token}}
    return Push(key="probe", target=token, body=json.dumps(body).encode())


PROVIDER = Provider(
    platform="android",
    name=NAME,
    credential="fcm_credential",
    client=FcmClient,
    render=render,
    limit=LIMIT,
    address="push_token",
    retired_as=AddressGone.TOKEN_INVALID,
    probe=probe,
)

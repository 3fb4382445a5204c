"""What every push service client takes and answers: pushes in, classified results out."""

from __future__ import annotations

import email.utils
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from django.conf import settings


class Outcome(StrEnum):
    """How a provider's answer to one push is classified (each module keeps its table)."""

    SENT = "sent"
    RETRY = "retry"  # 429, 5xx, WNS 406, timeouts: the same push may succeed later
    # retry later; this device's trouble, not the provider's (APNs 429 for one token, a WNS
    # channel host that does not answer)
    DEVICE_RETRY = "device_retry"
    MESSAGE_FAILED = "message_failed"  # permanent for this message: too large, bad topic, ...
    DEVICE_GONE = "device_gone"  # permanent for this device: retire its token or channel
    AUTH_FAILED = "auth_failed"  # our credentials were refused, even after one refresh


# The outcomes that may succeed when sent again later; Retry-After is read for them.
RETRIED = frozenset({Outcome.RETRY, Outcome.DEVICE_RETRY})


class AddressGone(StrEnum):
    """What a DEVICE_GONE answer says of the device's address, in each service's terms."""

    TOKEN_INVALID = "token_invalid"  # an APNs or FCM device token that will never work again
    CHANNEL_EXPIRED = "channel_expired"  # a WNS channel URI that is no longer valid


@dataclass(frozen=True, repr=False)
class Credential:
    """What every client's credential carries besides its own fields: who it is, which version.

    Each service's module defines its own (apns.ApnsKey, fcm.FcmServiceAccount, ...), holding
    the secret already decrypted; the app's stored credential makes it.
    """

    name: str  # for people, in messages: "APNs credential of Retail"
    identity: str  # the same across changes of one stored credential: "ApnsCredential:3"
    version: str  # changes whenever the stored credential does: its connections are replaced

    def __repr__(self) -> str:  # never show the secret, even in a traceback
        return f"{type(self).__name__}({self.identity!r})"


@dataclass(frozen=True)
class Push:
    """One message to one device, its payload already rendered for the platform."""

    key: str  # the caller's id for it (a delivery id); APNs also sends it as apns-id when a UUID
    target: str  # the device token, or the WNS channel URI
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # the renderer's (apns-*, X-WNS-*)


@dataclass(frozen=True)
class Result:
    """The provider's answer to one push, as it came and as classified."""

    key: str
    outcome: Outcome
    status: int = 0  # the HTTP status; 0 when no answer came (connection error, timeout)
    reason: str = ""  # the provider's own reason string: BadDeviceToken, UNREGISTERED, ...
    detail: str = ""  # the provider's message or the transport's error, for people
    retry_after: float | None = None  # seconds, when the provider said
    provider_id: str = ""  # apns-id, the FCM message name, or X-WNS-Msg-ID


class ProviderError(Exception):
    """A failure of the whole client, not of one push: configuration, credentials, transport."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


def retry_after(headers: dict[str, str]) -> float | None:
    """Read Retry-After (lower-cased headers), given in seconds or as an HTTP date."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def tls_context() -> ssl.SSLContext:
    """Trust the system's CAs and settings.CA_BUNDLE together, as the transport does."""
    context = ssl.create_default_context()
    if settings.CA_BUNDLE:
        try:
            context.load_verify_locations(cafile=settings.CA_BUNDLE)
        except (OSError, ssl.SSLError) as error:
            raise ProviderError(
                f"the CA bundle {settings.CA_BUNDLE} cannot be read: {error}", permanent=True
            ) from error
    return context


def never_expires(device: Any, now: datetime) -> str:
    """Say why a device's address may no longer be used; "" (never) for most services."""
    return ""


@dataclass(frozen=True)
class Provider:
    """One push service as the rest of the product sees it (devices/providers/registry.py).

    Each service's module declares one: what it is called, which devices it serves and how it
    addresses them, where an app keeps its credential, how a message is rendered and sent.
    """

    platform: str  # the devices it serves: "ios", "android", "windows"
    name: str  # the service, for people: "APNs"
    credential: str  # the MobileApp relation holding its credential: "apns_credential"
    client: Callable[..., Any]  # the client class, made with that credential's Credential
    render: Callable[..., Any]  # render(message, token="", now=None) -> Payload
    limit: int  # the largest payload it accepts, in bytes
    address: str  # the Device field that reaches a device: "push_token" or "channel_uri"
    retired_as: AddressGone  # what its DEVICE_GONE answers say of a device's address
    default_kind: str = "standard"  # the message kind of a plain test message
    # Why a device's address may no longer be used (a WNS channel past its 30 days), or "".
    address_expired: Callable[[Any, datetime], str] = never_expires
    # A silent check for one registered device's address, where the service has one: it shows
    # a wrong environment, topic or project before a campaign does. WNS has none (every
    # notification it accepts is delivered).
    probe: Callable[[str], Push] | None = None

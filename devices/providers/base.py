"""What every push service client takes and answers: pushes in, classified results out."""

from __future__ import annotations

import email.utils
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

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

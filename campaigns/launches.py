"""Launch tracking: an app reports that a notification opened it, once per delivery.

The tracking id a payload carries is its delivery's primary key in lowercase hexadecimal,
followed by a MAC of it: the first 96 bits of HMAC-SHA256 under a key derived from SECRET_KEY,
in 16 characters of URL-safe base64. Counting launches can decide an A/B test, so an id must not
be guessable from the ids around it; signing needs no column and costs one HMAC per device.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from campaigns.models import Delivery, DeliveryStatus
from devices import delivery_events
from devices.models import MobileApp

LARGEST_ID = 2**63 - 1
# 96 bits: a forgery can only be tried online, against the rate-limited API, one guess at a time.
MAC_BYTES = 12
MAC_LENGTH = 16  # characters of URL-safe base64 for MAC_BYTES
# The longest id: sixteen hexadecimal digits for the largest key, then the MAC.
MAX_LENGTH = 16 + MAC_LENGTH
TRACKING_ID = re.compile(rf"(?P<pk>[0-9a-f]{{1,16}})(?P<mac>[A-Za-z0-9_-]{{{MAC_LENGTH}}})")
KEY_SALT = b"pushcenter.campaigns.launches.tracking_id"
# A delivery whose message reached the provider; an unknown one may have arrived too.
HANDED_OVER = (DeliveryStatus.SENT, DeliveryStatus.UNKNOWN)
UNKNOWN = "No notification of this app was sent with this tracking_id."


class LaunchError(ValueError):
    """The tracking id is not one a payload could carry."""


class UnknownTrackingId(LaunchError):
    """The tracking id names no delivery of this app that was sent."""


@dataclass(frozen=True)
class Launch:
    tracking_id: str
    notification_id: int
    launched_at: datetime
    new: bool


def tracking_id(delivery_pk: int) -> str:
    """Return the tracking id a delivery's payload carries."""
    pk = f"{delivery_pk:x}"
    return pk + _mac(_key(settings.SECRET_KEY), pk)


def record(app: MobileApp, tracking_id: str) -> Launch:
    """Record the first launch from a delivery; a repeat changes nothing and says it is not new."""
    pk = delivery_pk(tracking_id)
    deliveries = Delivery.objects.filter(
        pk=pk, notification__app=app, notification__track_launches=True, status__in=HANDED_OVER
    )
    new = deliveries.filter(launched_at__isnull=True).update(launched_at=timezone.now()) == 1
    found = deliveries.values("notification_id", "device_id", "launched_at").first()
    if found is None:
        raise UnknownTrackingId(UNKNOWN)
    if new:
        _announce(app, pk, found)
    return Launch(tracking_id, found["notification_id"], found["launched_at"], new)


def _announce(app: MobileApp, pk: int, found: dict) -> None:
    """Announce a first launch to whoever listens for the app's launches (announce asks)."""
    event = delivery_events.DeliveryEvent(
        kind=delivery_events.LAUNCHED,
        app_id=app.pk,
        key=str(pk),
        occurred_at=found["launched_at"],
        notification_id=found["notification_id"],
        delivery_id=pk,
        device_id=found["device_id"],
    )
    delivery_events.announce([event])


def delivery_pk(tracking_id: str) -> int:
    """Return the delivery a tracking id names, once its MAC is checked.

    A well-formed id whose MAC does not match is "unknown", the answer an id of no delivery
    gets, so a guess learns nothing. Ids signed under SECRET_KEY_FALLBACKS still count, so
    rotating the secret does not lose the launches of notifications already sent.
    """
    match = TRACKING_ID.fullmatch(tracking_id)
    if match is None:
        raise LaunchError(
            "A tracking_id is the id the notification's payload carried: lowercase hexadecimal "
            f"digits and a {MAC_LENGTH}-character signature."
        )
    pk, mac = match["pk"], match["mac"]
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    if not any(hmac.compare_digest(_mac(_key(secret), pk), mac) for secret in secrets):
        raise UnknownTrackingId(UNKNOWN)
    number = int(pk, 16)
    if number > LARGEST_ID:
        raise UnknownTrackingId(UNKNOWN)
    return number


@functools.lru_cache(maxsize=8)
def _key(secret: str) -> bytes:
    """Derive the tracking key from a secret, so the MAC key is used for nothing else."""
    return hmac.new(secret.encode(), KEY_SALT, hashlib.sha256).digest()


def _mac(key: bytes, pk: str) -> str:
    digest = hmac.new(key, pk.encode(), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode()

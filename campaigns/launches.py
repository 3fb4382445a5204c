"""Launch tracking: an app reports that a notification opened it, once per delivery.

The tracking id a payload carries is its delivery's primary key in lowercase hexadecimal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from campaigns.models import Delivery, DeliveryStatus
from devices.models import MobileApp

TRACKING_ID = re.compile(r"[0-9a-f]{1,16}")
LARGEST_ID = 2**63 - 1
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


def record(app: MobileApp, tracking_id: str) -> Launch:
    """Record the first launch from a delivery; a repeat changes nothing and says it is not new."""
    pk = _delivery_pk(tracking_id)
    deliveries = Delivery.objects.filter(
        pk=pk, notification__app=app, notification__track_launches=True, status__in=HANDED_OVER
    )
    new = deliveries.filter(launched_at__isnull=True).update(launched_at=timezone.now()) == 1
    found = deliveries.values("notification_id", "launched_at").first()
    if found is None:
        raise UnknownTrackingId(UNKNOWN)
    return Launch(tracking_id, found["notification_id"], found["launched_at"], new)


def _delivery_pk(tracking_id: str) -> int:
    if not TRACKING_ID.fullmatch(tracking_id):
        raise LaunchError(
            "A tracking_id is the lowercase hexadecimal id the notification's payload carried."
        )
    pk = int(tracking_id, 16)
    if pk > LARGEST_ID:
        raise UnknownTrackingId(UNKNOWN)
    return pk

"""What a sending worker holds of a claimed delivery and its device: the columns sending reads
and writes, as plain objects.

A batch loaded as Django models (a Delivery and a Device each) spent about 50 µs a delivery
making them, a third of a sending worker's time (bench/delivery.py under py-spy); rows read as
tuples into these cost a fifth of that. A personalized text reads any of the device's values:
then the whole Device is loaded in its place (load_whole_devices).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from campaigns.models import Delivery, DeliveryStatus, Notification
from devices.models import Device
from pushcenter import sql


@dataclass(slots=True)
class ClaimedDevice:
    """The device's columns sending reads: where it is reached, its language, time zone, state."""

    pk: int
    platform: str
    push_token: str | None
    channel_uri: str | None
    channel_expires_at: datetime | None
    locale: str
    time_zone: str
    status: str


@dataclass(slots=True)
class ClaimedDelivery:
    """A claimed delivery: what sending reads of it, then the answer it records."""

    pk: int
    notification_id: int
    device_id: int
    attempts: int
    properties: dict | None
    language: str
    not_before: datetime | None
    retrying_since: datetime | None
    device: ClaimedDevice | Device
    notification: Notification | None = None
    status: str = DeliveryStatus.CLAIMED
    reason: str = ""
    provider_id: str = ""
    sent_at: datetime | None = None
    lease_until: datetime | None = None
    updated_at: datetime | None = None


_DELIVERY_COLUMNS = (
    "id",
    "notification_id",
    "device_id",
    "attempts",
    "properties",
    "language",
    "not_before",
    "retrying_since",
)
_DEVICE_COLUMNS = (
    "device__id",
    "device__platform",
    "device__push_token",
    "device__channel_uri",
    "device__channel_expires_at",
    "device__locale",
    "device__time_zone",
    "device__status",
)


def load(ids: Sequence[int]) -> list[ClaimedDelivery]:
    """Return those of these deliveries that are still claimed, with their devices: one query."""
    claimed = sql.with_ids(Delivery.objects.filter(status=DeliveryStatus.CLAIMED), ids)
    rows = claimed.values_list(*_DELIVERY_COLUMNS, *_DEVICE_COLUMNS)
    split = len(_DELIVERY_COLUMNS)
    return [ClaimedDelivery(*row[:split], device=ClaimedDevice(*row[split:])) for row in rows]


def load_whole_devices(deliveries: list[ClaimedDelivery]) -> None:
    """Give each delivery its whole device: a personalized text may read any of its values."""
    devices = sql.with_ids(Device.objects.all(), [d.device_id for d in deliveries])
    by_id = {device.pk: device for device in devices}
    for delivery in deliveries:
        delivery.device = by_id[delivery.device_id]

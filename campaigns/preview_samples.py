"""Whom the composer's preview is personalized for, per platform.

The device or user the marketer picks (by install id or user id) where it is of that platform;
else the most recently seen device of that platform inside the audience; else a made-up one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.timesince import timesince

from campaigns import audience, personalization
from campaigns.models import Notification
from devices.models import Device, DeviceStatus, Platform
from segments import services as segment_services
from segments.models import Segment

PLATFORM_NAMES = dict(Platform.choices)


def samples(
    notification: Notification, pool: QuerySet[Device], preview_as: str = ""
) -> dict[str, tuple[dict, str]]:
    """Return each platform's context and a sentence saying whom it stands for.

    `pool` holds the devices a default sample is taken from: the audience when it is known.
    """
    chosen = picked_devices(notification, preview_as)
    found = {}
    for platform in notification.platforms:
        device = chosen.get(platform) or _most_recent(pool, platform)
        found[platform] = _context(notification, platform, device, picked=platform in chosen)
    if preview_as.strip() and not chosen:
        note = f" No device of this app has the install or user ID {preview_as.strip()!r}."
        found = {p: (context, label + note) for p, (context, label) in found.items()}
    return found


def picked_devices(notification: Notification, preview_as: str) -> dict[str, Device]:
    """Return the picked install, or the picked user's most recently seen device per platform."""
    wanted = preview_as.strip()
    if not wanted:
        return {}
    match = Q(user_id=wanted)
    try:
        match |= Q(install_id=uuid.UUID(wanted))
    except ValueError:
        pass
    devices = Device.objects.filter(match, app=notification.app, status=DeviceStatus.ACTIVE)
    latest: dict[str, Device] = {}
    for device in devices.order_by("-last_seen")[:50]:
        latest.setdefault(device.platform, device)
    return latest


def pool_of(notification: Notification, segments: Iterable[Segment] | None) -> QuerySet[Device]:
    """Return the audience, or the app's active devices when the target is not valid yet."""
    every = Device.objects.filter(app=notification.app, status=DeviceStatus.ACTIVE)
    if segments is None:
        return every
    return audience.audience(notification, segments)


def _most_recent(pool: QuerySet[Device], platform: str) -> Device | None:
    try:
        with transaction.atomic():  # a failed query rolls back to here, not the request's
            return pool.filter(platform=platform).order_by("-last_seen").first()
    except segment_services.EVALUATION_ERRORS:
        return None  # a segment that cannot be evaluated: its page says why


def _context(
    notification: Notification, platform: str, device: Device | None, *, picked: bool
) -> tuple[dict, str]:
    name = PLATFORM_NAMES.get(platform, platform)
    if device is None:
        label = f"Personalized for a made-up {name} device: none in the audience yet."
        return personalization.made_up_context(notification.app, platform), label
    who = f"user {device.user_id}" if device.user_id else "no user"
    seen = timesince(device.last_seen, timezone.now()).split(",")[0]
    why = "the device you picked" if picked else f"a recently seen {name} device in the audience"
    label = (
        f"Personalized for {why}: {device.install_id} ({who}, "
        f"{device.locale or 'no locale'}), seen {seen} ago."
    )
    return personalization.device_context(device, notification.app), label

"""The push services Push Center sends through, by the device platform each serves.

Every other part of the product reaches a service through its ``Provider`` here: its name, its
credential, its client, its renderer, its limit, how its devices are addressed. Adding a
fourth service is one module under devices/providers/ declaring a ``PROVIDER`` (its client,
renderer and answer table, as apns.py, fcm.py and wns.py do) and one entry in PROVIDERS below,
plus its credential model and the platform's name in devices.models.Platform.
"""

from __future__ import annotations

from datetime import datetime

from devices.providers import apns, fcm, wns
from devices.providers.base import Provider
from devices.providers.message import Message, Payload, require_choice

PROVIDERS: dict[str, Provider] = {
    provider.platform: provider for provider in (apns.PROVIDER, fcm.PROVIDER, wns.PROVIDER)
}
PLATFORMS = tuple(PROVIDERS)
NAMES = {platform: provider.name for platform, provider in PROVIDERS.items()}


def provider(platform: str) -> Provider:
    """Return the service that reaches devices of this platform; ValueError if none does."""
    try:
        return PROVIDERS[platform]
    except KeyError:
        require_choice("platform", platform, PROVIDERS)  # raises ValueError naming the known ones
        raise


def render(
    platform: str, message: Message, now: datetime | None = None, token: str = ""
) -> Payload:
    """Render the message for a platform's service.

    FCM carries the device's token in the message itself; APNs and WNS address the device in
    the request, so `token` matters only for Android.
    """
    return provider(platform).render(message, token=token, now=now)

"""Take part in what the lower apps announce: a provider that may send again resumes its queue."""

from __future__ import annotations

from django.dispatch import receiver

from campaigns import delivery
from devices.models import MobileApp
from devices.provider_health import provider_resumed


@receiver(provider_resumed)
def resume_waiting_deliveries(sender: type, app: MobileApp, platform: str, **kwargs) -> None:
    delivery.resume_waiting(app, platform)

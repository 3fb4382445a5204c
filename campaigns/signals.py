"""Take part in what the lower apps announce: a provider that may send again resumes its queue.

And keep what follows a save of campaigns' own: a notification's first conversion goal in its
app starts the app's conversion mark.
"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from campaigns import conversions, delivery
from campaigns.models import Notification
from devices.models import MobileApp
from devices.provider_health import provider_resumed


@receiver(provider_resumed)
def resume_waiting_deliveries(sender: type, app: MobileApp, platform: str, **kwargs) -> None:
    delivery.resume_waiting(app, platform)


@receiver(post_save, sender=Notification)
def start_counting_conversions(sender: type, instance: Notification, **kwargs) -> None:
    if instance.conversion_event:
        conversions.mark_from_now(instance.app_id)

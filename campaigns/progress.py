"""How a send is going, as the notification's page shows it and refreshes it while it sends."""

from __future__ import annotations

from django.db.models import Count
from django.utils import timezone

from campaigns.models import DeliveryStatus, Notification, Status
from devices.models import ProviderHealth

# While a notification is in one of these, its page keeps asking how it goes.
LIVE_STATUSES = (Status.SCHEDULED, Status.SENDING)


def counts(notification: Notification) -> dict[str, int]:
    """Count the notification's deliveries by status."""
    found = dict.fromkeys(DeliveryStatus.values, 0)
    found.update(dict(notification.deliveries.values_list("status").annotate(n=Count("id"))))
    return found


def report(notification: Notification) -> dict:
    """Describe the send: its status, its deliveries by status and any paused provider."""
    found = {status: n for status, n in counts(notification).items() if n}
    labels = dict(DeliveryStatus.choices)
    text = ", ".join(f"{labels[status]}: {n:,}" for status, n in found.items())
    return {
        "status": notification.status,
        "status_label": notification.get_status_display(),
        "live": notification.status in LIVE_STATUSES,
        "counts": found,
        "text": text or "None yet: deliveries are made when the send starts.",
        "paused": paused_providers(notification) if found else [],
    }


def paused_providers(notification: Notification) -> list[str]:
    """Say which of the app's providers are paused, until when and why."""
    paused = ProviderHealth.objects.filter(
        app_id=notification.app_id,
        platform__in=notification.platforms,
        paused_until__gt=timezone.now(),
    )
    return [
        f"The {health.get_platform_display()} provider is paused until "
        f"{health.paused_until:%H:%M:%S} UTC after {health.failures} failed batches in a row: "
        f"{health.last_error}"
        for health in paused
    ]

"""How a send is going, as the notification's page shows it and refreshes it while it sends."""

from __future__ import annotations

from django.db.models import Count, Min, Q
from django.utils import timezone

from campaigns.models import DeliveryStatus, Notification, Status
from devices.models import ProviderHealth

# While a notification is in one of these, its page keeps asking how it goes.
LIVE_STATUSES = (Status.SCHEDULED, Status.SENDING)
# How many of the waiting deliveries' answers the page names, most common first.
MOST_COMMON = 3


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
        "retries": waiting_retries(notification) if found.get(DeliveryStatus.QUEUED) else "",
    }


def paused_providers(notification: Notification) -> list[str]:
    """Say which of the app's providers are held or paused, until when and why."""
    waiting = ProviderHealth.objects.filter(
        app_id=notification.app_id, platform__in=notification.platforms
    ).filter(Q(paused_until__gt=timezone.now()) | Q(suspended_at__isnull=False))
    return [_provider_state(health) for health in waiting]


def _provider_state(health: ProviderHealth) -> str:
    name = health.get_platform_display()
    if health.suspended_at is not None:
        return f"The {name} provider is held: {health.suspect_reason}"
    return (
        f"The {name} provider is paused until {health.paused_until:%H:%M:%S} UTC after "
        f"{health.failures} failed batches in a row: {health.last_error}"
    )


def waiting_retries(notification: Notification) -> str:
    """Say how many deliveries wait to try again, when the next goes, and what was answered."""
    waiting = notification.deliveries.filter(status=DeliveryStatus.QUEUED, attempts__gt=0)
    summary = waiting.aggregate(count=Count("id"), next_at=Min("not_before"))
    if not summary["count"]:
        return ""
    answers = waiting.values_list("reason").annotate(n=Count("id")).order_by("-n")[:MOST_COMMON]
    said = "; ".join(f"{reason or 'no reason given'} ({n:,})" for reason, n in answers)
    next_at = summary["next_at"]
    when = f", the next at {next_at:%H:%M:%S} UTC" if next_at else ""
    return f"Waiting to try again: {summary['count']:,}{when}. Last answers: {said}."

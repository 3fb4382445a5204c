"""A notification's delivery statistics: counts and rates, as the dashboard and APIs show them.

Delivery rate is sent / attempted (`ATTEMPTED_DELIVERY_STATUSES`: sent, failed, channel
expiration failure, unknown); launch rate is launches / sent; conversion rate is conversions /
sent (campaigns.conversions), and conversion value the sum of their values (None: none had one).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum

from campaigns import progress
from campaigns.models import ATTEMPTED_DELIVERY_STATUSES, DeliveryStatus, Notification

IN_PROGRESS = (DeliveryStatus.QUEUED, DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)


def summary(notification: Notification) -> dict:
    """Count the notification's deliveries by outcome, with the skipped ones by reason."""
    counts = progress.counts(notification)
    attempted = sum(counts[status] for status in ATTEMPTED_DELIVERY_STATUSES)
    launches = notification.deliveries.filter(launched_at__isnull=False).count()
    converted = conversions(notification)
    return {
        "targeted": sum(counts.values()),
        "sending": sum(counts[status] for status in IN_PROGRESS),
        "sent": counts[DeliveryStatus.SENT],
        "failed": counts[DeliveryStatus.FAILED],
        "channel_expired": counts[DeliveryStatus.CHANNEL_EXPIRED],
        "unknown": counts[DeliveryStatus.UNKNOWN],
        "expired": counts[DeliveryStatus.EXPIRED],
        "skipped": counts[DeliveryStatus.SKIPPED],
        "skipped_reasons": skipped_reasons(notification),
        "launches": launches,
        "delivery_rate": _rate(counts[DeliveryStatus.SENT], attempted),
        "launch_rate": _rate(launches, counts[DeliveryStatus.SENT]),
        **converted,
        "conversion_rate": _rate(converted["conversions"], counts[DeliveryStatus.SENT]),
    }


def conversions(notification: Notification) -> dict:
    """Count the notification's conversions and sum their values."""
    found = notification.conversions.aggregate(n=Count("id"), value=Sum("value"))
    value: Decimal | None = found["value"]
    return {"conversions": found["n"], "conversion_value": value}


def skipped_reasons(notification: Notification) -> dict[str, int]:
    skipped = notification.deliveries.filter(status=DeliveryStatus.SKIPPED)
    return dict(skipped.values_list("reason").annotate(n=Count("id")).order_by("-n"))


def _rate(part: int, whole: int) -> float | None:
    """Return part / whole as a fraction, or None when nothing was counted."""
    return round(part / whole, 4) if whole else None

"""Keep each notification's rollup current: per-minute counts and its summary.

A rollup is recomputed whole from the notification's deliveries and conversions (GROUP BY, one
query each for outcomes, launches and conversions), so it can never drift; pages read only the
rollup.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import CharField, Count, Expression, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMinute
from django.utils import timezone

from campaigns import statistics
from campaigns.models import (
    FINAL_DELIVERY_STATUSES,
    Conversion,
    Delivery,
    Notification,
    Status,
)
from metrics.models import Counted, DeliveryCount, NotificationSummary, Watermark

LAUNCHES = "launches"
CONVERSIONS = "conversions"
# A notification that ended within this long ago is rolled up again (its last answers).
SETTLING = timedelta(minutes=10)
OVERLAP = timedelta(minutes=1)


@transaction.atomic
def refresh(notification: Notification) -> NotificationSummary:
    """Recompute the notification's per-minute counts and its summary."""
    rows = [
        *_outcome_rows(notification),
        *_launch_rows(notification),
        *_conversion_rows(notification),
    ]
    DeliveryCount.objects.filter(notification=notification).delete()
    DeliveryCount.objects.bulk_create(rows)
    totals = statistics.summary(notification)
    fields = ["targeted", "sending", "sent", "failed", "channel_expired", "unknown", "expired"]
    summary, _ = NotificationSummary.objects.update_or_create(
        notification=notification,
        defaults={
            **{name: totals[name] for name in fields},
            "skipped": totals["skipped"],
            "skipped_reasons": totals["skipped_reasons"],
            "launches": totals["launches"],
            "conversions": totals["conversions"],
            "conversion_value": totals["conversion_value"],
            "rolled_up_at": timezone.now(),
        },
    )
    return summary


def _outcome_rows(notification: Notification) -> list[DeliveryCount]:
    final = Delivery.objects.filter(notification=notification, status__in=FINAL_DELIVERY_STATUSES)
    return _per_minute(notification, final, Coalesce("sent_at", "updated_at"), F("status"))


def _launch_rows(notification: Notification) -> list[DeliveryCount]:
    launched = Delivery.objects.filter(notification=notification, launched_at__isnull=False)
    return _per_minute(
        notification, launched, F("launched_at"), Value(Counted.LAUNCHED, output_field=CharField())
    )


def _conversion_rows(notification: Notification) -> list[DeliveryCount]:
    """Count the conversions and sum their values by minute, platform and language."""
    grouped = (
        Conversion.objects.filter(notification=notification)
        .annotate(
            minute=TruncMinute("converted_at"),
            platform=F("delivery__platform"),
            language=F("delivery__language"),
        )
        .values("minute", "platform", "language")
        .annotate(n=Count("id"), value=Sum("value"))
        .order_by()
    )
    return [
        DeliveryCount(
            notification=notification,
            minute=row["minute"],
            platform=row["platform"],
            language=row["language"],
            outcome=Counted.CONVERTED,
            count=row["n"],
            value=row["value"],
        )
        for row in grouped
    ]


def _per_minute(
    notification: Notification,
    deliveries: QuerySet[Delivery],
    when: Expression,
    outcome: Expression,
) -> list[DeliveryCount]:
    """Count the deliveries by minute of `when`, platform, language and outcome."""
    grouped = (
        deliveries.annotate(minute=TruncMinute(when), outcome=outcome)
        .values("minute", "platform", "language", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [
        DeliveryCount(
            notification=notification,
            minute=row["minute"],
            platform=row["platform"],
            language=row["language"],
            outcome=row["outcome"],
            count=row["n"],
        )
        for row in grouped
    ]


def stale(now: datetime) -> list[int]:
    """List the notifications whose rollup is behind: sending, just ended, newly launched or
    newly converted."""
    # Reading a little before the mark catches launches committed late.
    since = _advance(LAUNCHES, now) - OVERLAP
    launched = Delivery.objects.filter(launched_at__gt=since, launched_at__lte=now)
    recent_end = Q(completed_at__gte=now - SETTLING) | Q(summary__isnull=True)
    # A running journey's steps send all the time.
    sending = Q(status__in=[Status.SENDING, Status.AUTOMATED])
    ended = Notification.objects.filter(sending | (Q(status=Status.COMPLETED) & recent_end))
    ids = set(ended.values_list("pk", flat=True))
    ids.update(launched.values_list("notification_id", flat=True).distinct())
    since = _advance(CONVERSIONS, now) - OVERLAP
    converted = Conversion.objects.filter(recorded_at__gt=since, recorded_at__lte=now)
    ids.update(converted.values_list("notification_id", flat=True).distinct())
    return sorted(ids)


def _advance(name: str, now: datetime) -> datetime:
    """Move the watermark to now and return where it stood (an hour ago the first time)."""
    mark, created = Watermark.objects.get_or_create(
        name=name, defaults={"at": now - timedelta(hours=1)}
    )
    since = mark.at
    Watermark.objects.filter(name=name).update(at=now)
    return since

"""The figures metrics pages draw, read from the rollup only (never from deliveries)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Sum
from django.db.models.functions import TruncDay

from campaigns.models import ATTEMPTED_DELIVERY_STATUSES, DeliveryStatus, Notification
from devices.models import MobileApp, Platform
from metrics.models import Counted, DeliveryCount

# A rollup row's outcome is its deliveries' final status (or a launch), so the attempted
# statuses are the outcomes that count as sends.
ATTEMPTS = ATTEMPTED_DELIVERY_STATUSES
FAILURES = tuple(status for status in ATTEMPTS if status != DeliveryStatus.SENT)
# Series of the charts, each summing some outcomes.
SERIES = {
    "Sends": ATTEMPTS,
    "Deliveries": (Counted.SENT,),
    "Launches": (Counted.LAUNCHED,),
}
SPLIT_SERIES = {
    "Sent": (Counted.SENT,),
    "Failed": FAILURES,
    "Launches": (Counted.LAUNCHED,),
}
# Charted where there is a conversion goal.
CONVERSIONS = {"Conversions": (Counted.CONVERTED,)}


def _with_conversions(series: dict, goal: bool) -> dict:
    return {**series, **CONVERSIONS} if goal else series


def timeline(notification: Notification) -> dict:
    """Sends, deliveries, launches (and conversions) over time, by minute, hour or day."""
    series = _with_conversions(SERIES, bool(notification.conversion_event))
    rows = list(notification.delivery_counts.order_by("minute"))
    if not rows:
        return {"labels": [], "series": {name: [] for name in series}, "bucket": "minute"}
    bucket = _bucket(rows[-1].minute - rows[0].minute)
    totals: dict[datetime, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        totals[_truncate(row.minute, bucket)][row.outcome] += row.count
    times = _range(min(totals), max(totals), bucket)
    return {
        "labels": [_label(t, bucket) for t in times],
        "series": {
            name: [sum(totals[t][o] for o in outcomes) if t in totals else 0 for t in times]
            for name, outcomes in series.items()
        },
        "bucket": bucket,
    }


def split(notification: Notification, key: str) -> dict:
    """Sent, failed, launches (and conversions) by platform or by language."""
    series = _with_conversions(SPLIT_SERIES, bool(notification.conversion_event))
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in notification.delivery_counts.values(key, "outcome").annotate(n=Sum("count")):
        totals[row[key] or "—"][row["outcome"]] += row["n"]
    names = dict(Platform.choices) if key == "platform" else {}
    labels = sorted(totals)
    return {
        "labels": [names.get(label, label) for label in labels],
        "series": {
            name: [sum(totals[label][o] for o in outcomes) for label in labels]
            for name, outcomes in series.items()
        },
    }


def app_days(app: MobileApp, now: datetime, days: int = 30) -> dict:
    """Sends, deliveries, launches (and conversions) a day over the app's last `days` days."""
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (
        DeliveryCount.objects.filter(notification__app=app, minute__gte=start)
        .annotate(day=TruncDay("minute"))
        .values("day", "outcome")
        .annotate(n=Sum("count"))
        .order_by()
    )
    totals: dict[datetime, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        totals[row["day"]][row["outcome"]] += row["n"]
    times = _range(start, start + timedelta(days=days - 1), "day")
    goals = Notification.objects.filter(app=app).exclude(conversion_event="").exists()
    series = _with_conversions(SERIES, goals)
    return {
        "labels": [_label(t, "day") for t in times],
        "series": {
            name: [sum(totals[t][o] for o in outcomes) for t in times]
            for name, outcomes in series.items()
        },
        "bucket": "day",
    }


def csv_rows(notification: Notification) -> Iterable[list[str]]:
    """Each rollup row; "converted" rows carry their conversions' summed value."""
    yield ["minute_utc", "platform", "language", "outcome", "count", "value"]
    for row in notification.delivery_counts.order_by("minute", "platform", "language", "outcome"):
        minute = f"{row.minute:%Y-%m-%dT%H:%MZ}"
        value = "" if row.value is None else f"{row.value:f}"
        yield [minute, row.platform, row.language, row.outcome, str(row.count), value]


def _bucket(span: timedelta) -> str:
    if span <= timedelta(hours=3):
        return "minute"
    return "hour" if span <= timedelta(days=7) else "day"


def _truncate(moment: datetime, bucket: str) -> datetime:
    moment = moment.replace(second=0, microsecond=0)
    if bucket in ("hour", "day"):
        moment = moment.replace(minute=0)
    return moment.replace(hour=0) if bucket == "day" else moment


def _range(first: datetime, last: datetime, bucket: str) -> list[datetime]:
    step = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
    times, moment = [], _truncate(first, bucket)
    while moment <= last:
        times.append(moment)
        moment += step[bucket]
    return times


def _label(moment: datetime, bucket: str) -> str:
    return f"{moment:%Y-%m-%d}" if bucket == "day" else f"{moment:%m-%d %H:%M}"

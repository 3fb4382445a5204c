"""The app's sending rules a claimed delivery meets just before it is sent: quiet hours, caps.

Checked at send time, not at fan-out, so a delivery that waited (its local time, a retry)
is judged by what the device received meanwhile. A transactional notification passes both:
it goes now, and what it delivered does not count toward a later marketing send's caps.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet

from campaigns import local_time
from campaigns.claimed import ClaimedDelivery
from campaigns.models import (
    Delivery,
    Kind,
    Notification,
    QuietHoursAction,
    SendingRules,
)
from devices.models import Device
from pushcenter import sql


@dataclass
class Verdict:
    """What to do with a batch: send these, skip those (by reason), defer the rest (by time)."""

    send: list[ClaimedDelivery] = field(default_factory=list)
    skip: dict[str, list[ClaimedDelivery]] = field(default_factory=lambda: defaultdict(list))
    defer: dict[datetime, list[ClaimedDelivery]] = field(default_factory=lambda: defaultdict(list))


def judge(notification: Notification, deliveries: list[ClaimedDelivery], now: datetime) -> Verdict:
    """Sort claimed deliveries into those sent now, skipped and deferred."""
    if notification.kind == Kind.TRANSACTIONAL:
        return Verdict(send=list(deliveries))
    app, verdict, awake = notification.app, Verdict(), []
    rules = SendingRules.of(app)
    for delivery in deliveries:
        zone = local_time.zone_for(delivery.device.time_zone, app)
        until = local_time.quiet_until(app, zone, now)
        if until is None:
            awake.append(delivery)
        elif rules.quiet_hours_action == QuietHoursAction.SKIP:
            verdict.skip[f"Quiet hours ({local_time.describe_quiet_hours(app)})"].append(delivery)
        else:
            verdict.defer[until].append(delivery)
    capped = _capped(rules, [d.device_id for d in awake], now)
    for delivery in awake:
        if delivery.device_id in capped:
            verdict.skip[capped[delivery.device_id]].append(delivery)
        else:
            verdict.send.append(delivery)
    return verdict


def held_back(notification: Notification, devices: QuerySet[Device], now: datetime) -> int:
    """Count the devices that quiet hours or the caps would hold back were it sent now."""
    if notification.kind == Kind.TRANSACTIONAL:
        return 0
    app = notification.app
    # One question per zone the devices report, not per device.
    zones = devices.order_by().values_list("time_zone", flat=True).distinct()
    quiet = [
        name for name in zones if local_time.quiet_until(app, local_time.zone_for(name, app), now)
    ]
    held = Q(time_zone__in=quiet)
    for protected, _reason in _caps(SendingRules.of(app), now):
        held |= Q(id__in=protected)
    return devices.filter(held).count()


def _capped(rules: SendingRules, device_ids: list[int], now: datetime) -> dict[int, str]:
    """Map each device the app's frequency caps protect now to the reason: one query."""
    windows = _windows(rules)
    if not device_ids or not windows:
        return {}
    recent = _sent(rules).filter(sent_at__gt=now - max(windows.values()))
    recent = sql.with_ids(recent, device_ids, "device_id")
    counts = {
        name: Count("id", filter=Q(sent_at__gt=now - window)) for name, window in windows.items()
    }
    capped: dict[int, str] = {}
    for row in recent.values("device_id").annotate(**counts):
        if "daily" in row and row["daily"] >= rules.daily_maximum:
            capped[row["device_id"]] = _daily_reason(rules)
        if row.get("interval"):
            capped[row["device_id"]] = _interval_reason(rules)
    return capped


def _caps(rules: SendingRules, now: datetime) -> list[tuple[QuerySet, str]]:
    """List the app's frequency caps in force: the ids of the devices each protects, and why."""
    windows, caps = _windows(rules), []
    if "daily" in windows:
        today = _sent(rules).filter(sent_at__gt=now - windows["daily"]).values("device_id")
        full = today.annotate(n=Count("id")).filter(n__gte=rules.daily_maximum)
        caps.append((full.values_list("device_id", flat=True), _daily_reason(rules)))
    if "interval" in windows:
        recent = _sent(rules).filter(sent_at__gt=now - windows["interval"])
        caps.append((recent.values_list("device_id", flat=True), _interval_reason(rules)))
    return caps


def _windows(rules: SendingRules) -> dict[str, timedelta]:
    """Return how far back each cap in force looks."""
    windows = {}
    if rules.daily_maximum:
        windows["daily"] = timedelta(days=1)
    if rules.min_interval_minutes:
        windows["interval"] = timedelta(minutes=rules.min_interval_minutes)
    return windows


def _sent(rules: SendingRules) -> QuerySet[Delivery]:
    """What counts toward the caps: the app's marketing deliveries that were sent.

    Every marketing notification counts, this one too: a journey's step reaches a person
    again. Transactional ones do not: an order's receipt must not silence the next campaign.
    A delivery has a sent_at once sent and only then, and the caps ask by that, not by status:
    during a big send most rows turn sent while PostgreSQL's statistics still say few are, and
    asking by status led it to scan the send's own rows for every batch.
    """
    return Delivery.objects.filter(
        notification__app=rules.app,
        notification__kind=Kind.MARKETING,
        sent_at__isnull=False,
    )


def _daily_reason(rules: SendingRules) -> str:
    return f"Frequency cap: {rules.daily_maximum} notifications in the last 24 hours"


def _interval_reason(rules: SendingRules) -> str:
    return f"Frequency cap: a notification less than {rules.min_interval_minutes} min ago"

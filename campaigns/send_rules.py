"""The app's sending rules a claimed delivery meets just before it is sent: quiet hours, caps.

Checked at send time, not at fan-out, so a delivery that waited (its local time, a retry)
is judged by what the device received meanwhile. A transactional notification passes both:
it goes now, and what it delivered does not count toward a later marketing send's caps.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count

from campaigns import local_time
from campaigns.models import (
    Delivery,
    DeliveryStatus,
    Kind,
    Notification,
    QuietHoursAction,
    SendingRules,
)


@dataclass
class Verdict:
    """What to do with a batch: send these, skip those (by reason), defer the rest (by time)."""

    send: list[Delivery] = field(default_factory=list)
    skip: dict[str, list[Delivery]] = field(default_factory=lambda: defaultdict(list))
    defer: dict[datetime, list[Delivery]] = field(default_factory=lambda: defaultdict(list))


def judge(notification: Notification, deliveries: list[Delivery], now: datetime) -> Verdict:
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


def _capped(rules: SendingRules, device_ids: list[int], now: datetime) -> dict[int, str]:
    """Map each device the app's frequency caps protect now to the reason."""
    if not device_ids or not (rules.min_interval_minutes or rules.daily_maximum):
        return {}
    # Every marketing notification counts, this one too: a journey's step reaches a person
    # again. Transactional ones do not: an order's receipt must not silence the next campaign.
    sent = Delivery.objects.filter(
        device_id__in=device_ids,
        status=DeliveryStatus.SENT,
        notification__kind=Kind.MARKETING,
    )
    capped: dict[int, str] = {}
    if rules.daily_maximum:
        today = sent.filter(sent_at__gt=now - timedelta(days=1)).values("device_id")
        full = today.annotate(n=Count("id")).filter(n__gte=rules.daily_maximum)
        reason = f"Frequency cap: {rules.daily_maximum} notifications in the last 24 hours"
        capped.update(dict.fromkeys(full.values_list("device_id", flat=True), reason))
    if rules.min_interval_minutes:
        since = now - timedelta(minutes=rules.min_interval_minutes)
        recent = sent.filter(sent_at__gt=since).values_list("device_id", flat=True)
        reason = f"Frequency cap: a notification less than {rules.min_interval_minutes} min ago"
        capped.update(dict.fromkeys(recent, reason))
    return capped

"""Send a notification: its audience becomes Delivery rows, workers claim them in batches,
each batch is rendered per device and sent through the providers, the answers are recorded.

Every step can run twice, or on several workers at once: starting takes the notification's
row lock and only a scheduled notification starts; the fan-out inserts each (notification,
device) pair once; a batch is claimed with SELECT … FOR UPDATE SKIP LOCKED and a lease, so a
batch whose worker died is claimed again once the lease runs out.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone

from campaigns import content, payloads, personalization
from campaigns.audience import audience
from campaigns.models import Delivery, DeliveryStatus, Notification, ScheduleKind, Status
from devices import sending
from devices.providers.base import Outcome, ProviderError, Push, Result

BATCH_SIZE = 1000
MAX_ATTEMPTS = 5
# Back-off for retryable answers: BACKOFF_BASE * 2**(attempt-1), with jitter, at most BACKOFF_MAX.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=30)
OPEN_STATUSES = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)


def due_notifications(now: datetime) -> list[int]:
    """Return the scheduled notifications whose time has come (local-time ones wait)."""
    due = Notification.objects.filter(status=Status.SCHEDULED, send_at__lte=now)
    return list(due.exclude(schedule_kind=ScheduleKind.LOCAL).values_list("pk", flat=True))


def expired_before_sending(now: datetime) -> list[int]:
    """Return the scheduled notifications whose expiry came before their send started."""
    expired = Notification.objects.filter(status=Status.SCHEDULED, expires_at__lte=now)
    return list(expired.values_list("pk", flat=True))


def start(notification_id: int) -> bool:
    """Turn a due scheduled notification into its deliveries; False when there is nothing to do."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None or notification.status != Status.SCHEDULED:
            return False
        notification.status, notification.started_at = Status.SENDING, timezone.now()
        notification.save(update_fields=["status", "started_at", "updated_at"])
        fan_out(notification)
        apply_caps(notification)
    return True


def fan_out(notification: Notification) -> int:
    """Insert one queued delivery per audience device in one statement; return the count added."""
    devices = audience(notification).values(device=F("pk"))
    select, params = devices.query.sql_with_params()
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        # "WHERE true" lets SQLite tell the SELECT's end from the upsert clause.
        cursor.execute(
            f"INSERT INTO {table} (notification_id, device_id, status, reason, attempts, "  # noqa: S608
            f"provider_id, updated_at) SELECT %s, audience.device, %s, '', 0, '', %s "
            f"FROM ({select}) AS audience WHERE true "
            f"ON CONFLICT (notification_id, device_id) DO NOTHING",
            [notification.pk, DeliveryStatus.QUEUED, timezone.now(), *params],
        )
        return cursor.rowcount


def apply_caps(notification: Notification) -> None:
    """Skip, with the reason, the queued deliveries whose device the app's caps protect."""
    app, now = notification.app, timezone.now()
    queued = Delivery.objects.filter(notification=notification, status=DeliveryStatus.QUEUED)
    sent = Delivery.objects.filter(notification__app=app, status=DeliveryStatus.SENT).exclude(
        notification=notification
    )
    if app.min_interval_minutes:
        since = now - timedelta(minutes=app.min_interval_minutes)
        recent = sent.filter(sent_at__gt=since).values("device_id")
        reason = f"Frequency cap: a notification less than {app.min_interval_minutes} min ago"
        _skip(queued.filter(device_id__in=recent), reason, now)
    if app.daily_maximum:
        today = sent.filter(sent_at__gt=now - timedelta(days=1)).values("device_id")
        full = today.annotate(n=Count("id")).filter(n__gte=app.daily_maximum).values("device_id")
        reason = f"Frequency cap: {app.daily_maximum} notifications in the last 24 hours"
        _skip(queued.filter(device_id__in=full), reason, now)


def _skip(deliveries: QuerySet[Delivery], reason: str, now: datetime) -> None:
    deliveries.update(status=DeliveryStatus.SKIPPED, reason=reason, updated_at=now)


def claim(notification_id: int, size: int = BATCH_SIZE) -> list[int]:
    """Claim up to `size` deliveries for this worker: queued and due, or whose lease ran out.

    One statement: PostgreSQL skips the rows another worker has locked; SQLite runs one writer
    at a time, so two workers never claim the same row on either.
    """
    now = timezone.now()
    lease_until = now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    table = Delivery._meta.db_table
    skip_locked = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, lease_until = %s, attempts = attempts + 1 "  # noqa: S608
            f"WHERE id IN (SELECT id FROM {table} WHERE notification_id = %s AND ("
            f"(status = %s AND (not_before IS NULL OR not_before <= %s)) "
            f"OR (status = %s AND lease_until < %s)) ORDER BY id LIMIT %s{skip_locked}) "
            f"RETURNING id",
            [
                DeliveryStatus.SENDING,
                lease_until,
                notification_id,
                DeliveryStatus.QUEUED,
                now,
                DeliveryStatus.SENDING,
                now,
                size,
            ],
        )
        return sorted(row[0] for row in cursor.fetchall())


def send_batch(ids: list[int]) -> None:
    """Render and send claimed deliveries, grouped by platform, and record every answer."""
    deliveries = list(
        Delivery.objects.filter(id__in=ids, status=DeliveryStatus.SENDING).select_related(
            "device", "notification__app"
        )
    )
    if deliveries and _expired(deliveries[0].notification):
        _record_expired(deliveries)
        return
    by_platform: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_platform[delivery.device.platform].append(delivery)
    for platform, group in by_platform.items():
        _send_platform(group[0].notification, platform, group)


def _send_platform(notification: Notification, platform: str, group: list[Delivery]) -> None:
    pushes, refused = _pushes(notification, group)
    try:
        results = sending.client_for(notification.app, platform).send(pushes) if pushes else []
    except ProviderError as error:
        results = [Result(p.key, Outcome.RETRY, detail=error.message) for p in pushes]
    _record([*results, *refused], {str(d.pk): d for d in group})


def _pushes(notification: Notification, group: list[Delivery]) -> tuple[list[Push], list[Result]]:
    """Render each delivery's push; a delivery that cannot be rendered fails with the reason."""
    pushes, refused = [], []
    for delivery in group:
        try:
            pushes.append(_push(notification, delivery))
        except (ValueError, personalization.PersonalizationError) as error:
            refused.append(Result(str(delivery.pk), Outcome.MESSAGE_FAILED, detail=str(error)))
    return pushes, refused


def _push(notification: Notification, delivery: Delivery) -> Push:
    device = delivery.device
    language = content.language_for(notification, device.locale)
    context = personalization.device_context(device, notification.app)
    message = content.message(
        notification, device.platform, language, context=context, tracking_id=f"{delivery.pk:x}"
    )
    payload = payloads.render(device.platform, message, token=device.push_token or "")
    payloads.check_size(payload)
    target = sending.target_of(device) or ""
    return Push(str(delivery.pk), target, payload.body, payload.headers)


def _record(results: list[Result], deliveries: dict[str, Delivery]) -> None:
    now = timezone.now()
    for result in results:
        delivery = deliveries[result.key]
        _apply(delivery, result, now)
        if result.outcome == Outcome.DEVICE_GONE:
            sending.apply_result(delivery.device, result)
    fields = ["status", "reason", "provider_id", "sent_at", "not_before", "lease_until"]
    Delivery.objects.bulk_update(
        [deliveries[r.key] for r in results], [*fields, "updated_at"], batch_size=500
    )


def _apply(delivery: Delivery, result: Result, now: datetime) -> None:
    delivery.reason = " ".join(filter(None, [result.reason, result.detail]))[:300]
    delivery.provider_id, delivery.lease_until, delivery.updated_at = result.provider_id, None, now
    if result.outcome == Outcome.SENT:
        delivery.status, delivery.sent_at = DeliveryStatus.SENT, now
    elif result.outcome == Outcome.RETRY and delivery.attempts < MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.QUEUED
        delivery.not_before = now + _backoff(delivery.attempts, result.retry_after)
    elif result.outcome == Outcome.RETRY:
        delivery.status = DeliveryStatus.UNKNOWN
    elif result.outcome == Outcome.DEVICE_GONE and delivery.device.platform == "windows":
        delivery.status = DeliveryStatus.CHANNEL_EXPIRED
    else:
        delivery.status = DeliveryStatus.FAILED


def _backoff(attempt: int, retry_after: float | None) -> timedelta:
    """Wait twice as long after each try, with jitter; never less than the provider asked."""
    wait = min(BACKOFF_BASE * 2 ** (attempt - 1), BACKOFF_MAX)
    wait = wait * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not secrecy
    return max(wait, timedelta(seconds=retry_after or 0))


def _expired(notification: Notification) -> bool:
    return notification.expires_at is not None and notification.expires_at <= timezone.now()


def _record_expired(deliveries: list[Delivery]) -> None:
    ids = [d.pk for d in deliveries]
    Delivery.objects.filter(id__in=ids, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.EXPIRED, lease_until=None, updated_at=timezone.now()
    )


def expire(notification_id: int) -> None:
    """Expire a notification: never started, it expires; sending, its queue is never sent."""
    now = timezone.now()
    Notification.objects.filter(pk=notification_id, status=Status.SCHEDULED).update(
        status=Status.EXPIRED, updated_at=now
    )
    Delivery.objects.filter(notification_id=notification_id, status=DeliveryStatus.QUEUED).update(
        status=DeliveryStatus.EXPIRED, updated_at=now
    )


def finish_if_done(notification_id: int) -> bool:
    """Complete a sending notification once none of its deliveries is queued or sending."""
    if Delivery.objects.filter(notification_id=notification_id, status__in=OPEN_STATUSES).exists():
        return False
    now = timezone.now()
    finished = Notification.objects.filter(pk=notification_id, status=Status.SENDING).update(
        status=Status.COMPLETED, completed_at=now, updated_at=now
    )
    return bool(finished)


def progress(notification: Notification) -> dict[str, int]:
    """Count the notification's deliveries by status."""
    counts = dict.fromkeys(DeliveryStatus.values, 0)
    counts.update(dict(notification.deliveries.values_list("status").annotate(n=Count("id"))))
    return counts

"""Send a notification: its audience becomes Delivery rows, workers claim them in batches,
each batch is rendered per device and sent through the providers, the answers are recorded.

Every step can run twice, or on several workers at once: starting takes the notification's
row lock and only a scheduled notification starts; the fan-out inserts each (notification,
device) pair once; a batch is claimed with SELECT … FOR UPDATE SKIP LOCKED and a lease, so a
batch whose worker died is claimed again once the lease runs out.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import closing, nullcontext
from datetime import datetime, timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, F, Model, OuterRef, Q, QuerySet
from django.utils import timezone

from campaigns import audience, claimed, local_time, personalization, rendering, send_rules
from campaigns.claimed import ClaimedDelivery
from campaigns.models import (
    ATTEMPTED_DELIVERY_STATUSES,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Notification,
    ScheduleKind,
    Status,
)
from devices import delivery_events, provider_health, sending
from devices.models import Device, DeviceStatus, MobileApp
from devices.providers import registry
from devices.providers.base import Outcome, ProviderError, Push, Result
from pushcenter import sql

BATCH_SIZE = 1000
# Pushes handed to the provider at once: what a worker that dies leaves in doubt, at most.
HANDOVER_SIZE = 100
# How long the answers of a chunk wait for the database to come back (well under the lease).
RECORD_RETRY_SECONDS = 60
# Back-off for answers that say "later": BACKOFF_BASE * 2**(attempt-1) plus up to half again
# as jitter, at most BACKOFF_MAX, never less than Retry-After. FCM asks for at least one minute
# before the first retry of UNAVAILABLE, INTERNAL or QUOTA_EXCEEDED without Retry-After, then
# exponential back-off with jitter (FCM "ErrorCode" reference); APNs and WNS ask only that
# Retry-After be honoured, and the same waits serve them. Tries go on for the retry window.
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(minutes=30)
OPEN_STATUSES = (DeliveryStatus.QUEUED, DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)
# Answers that send the delivery back to the queue until its retry window closes.
RETRIED = (Outcome.RETRY, Outcome.DEVICE_RETRY, Outcome.AUTH_FAILED)


def due_notifications(now: datetime) -> list[int]:
    """Return the scheduled notifications whose time has come (a local-time one's first zone)."""
    due = Notification.objects.filter(status=Status.SCHEDULED, send_at__lte=now)
    return list(due.values_list("pk", flat=True))


def expired_before_sending(now: datetime) -> list[int]:
    """Return the scheduled notifications whose expiry came before their send started."""
    expired = Notification.objects.filter(status=Status.SCHEDULED, expires_at__lte=now)
    return list(expired.values_list("pk", flat=True))


def start(notification_id: int) -> int | None:
    """Turn a due scheduled notification into its deliveries and return how many were made.

    None when there is nothing to do: it is gone, or not scheduled (already started).
    """
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None or notification.status != Status.SCHEDULED:
            return None
        notification.status, notification.started_at = Status.SENDING, timezone.now()
        notification.save(update_fields=["status", "started_at", "updated_at"])
        made = fan_out(notification)
        sql.analyze_after_bulk_insert(Delivery, made)
        return made


def fan_out(notification: Notification) -> int:
    """Insert one delivery per targeted device; return the count added.

    A device left out by opt-out or a filter gets a skipped delivery with the reason. A
    local-time send inserts one slice per UTC instant, each waiting until its zone's time.
    """
    devices = audience.with_skip_reason(notification)
    if notification.schedule_kind != ScheduleKind.LOCAL:
        return _insert(notification, devices, not_before=None)
    zones = devices.order_by().values_list("time_zone", flat=True).distinct()
    slices = local_time.slices(notification.local_send_at, list(zones), notification.app)
    now = timezone.now()
    return sum(
        _insert(notification, devices.filter(time_zone__in=names), not_before=max(instant, now))
        for instant, names in slices.items()
    )


def _insert(
    notification: Notification, devices: QuerySet[Device], not_before: datetime | None
) -> int:
    """INSERT … SELECT the devices' deliveries in one statement; a pair present stays as is."""
    select, params = _device_rows(devices)
    return sql.insert_select(
        Delivery,
        _COLUMNS,
        f"SELECT %s, t.device, NULL, NULL, {_FROM_DEVICE_ROW} FROM ({select}) AS t",  # noqa: S608
        [notification.pk, *_row_params(not_before), *params],
        on_conflict="(notification_id, device_id) WHERE trigger_key IS NULL DO NOTHING",
    )


def insert_triggered(notification: Notification, occurrences: QuerySet[Model]) -> int:
    """Insert an automated notification's deliveries, one per occurrence of its trigger.

    `occurrences` are rows of the triggering app's model, each with a `device` foreign key and
    `properties` (JSON or null) for the text to read; a row's id becomes its delivery's
    trigger_key, so an occurrence gets the notification once however often this runs. The
    notification's own target and filters apply as a campaign's do: a device left out by them
    gets a skipped delivery with the reason; a retired device gets none. One statement.
    """
    devices = audience.with_skip_reason(notification).filter(pk__in=occurrences.values("device"))
    select, params = _device_rows(devices)
    keyed = occurrences.values(
        occurrence_device=F("device"),
        occurrence_key=F("pk"),
        occurrence_properties=F("properties"),
    )
    occurrence_select, occurrence_params = keyed.query.sql_with_params()
    return sql.insert_select(
        Delivery,
        _COLUMNS,
        "SELECT %s, t.device, o.occurrence_key, o.occurrence_properties, "  # noqa: S608
        f"{_FROM_DEVICE_ROW} FROM ({select}) AS t JOIN ({occurrence_select}) AS o "
        "ON o.occurrence_device = t.device",
        [notification.pk, *_row_params(None), *params, *occurrence_params],
        on_conflict="(trigger_key, notification_id) WHERE trigger_key IS NOT NULL DO NOTHING",
    )


# The columns a fan-out writes, in the order its SELECTs give them.
_COLUMNS = (
    "notification_id",
    "device_id",
    "trigger_key",
    "properties",
    "platform",
    "language",
    "status",
    "reason",
    "attempts",
    "provider_id",
    "not_before",
    "updated_at",
)

# The columns after (notification, device, trigger_key, properties), from a device row `t`
# with its skip reason: a device with a reason is inserted skipped, the others queued.
_FROM_DEVICE_ROW = (
    "t.platform, '', CASE WHEN t.skip_reason = '' THEN %s ELSE %s END, t.skip_reason, 0, '', %s, %s"
)


def skip_queued_triggered(
    notifications: QuerySet[Notification], occurrences: QuerySet[Model], reason: str
) -> int:
    """Skip, with the reason, these occurrences' deliveries no worker has claimed yet.

    For an automation whose occurrence ended (a person who left a journey): one UPDATE; a
    delivery a worker holds is locked, and once it is no longer queued it is left as it is.
    """
    return Delivery.objects.filter(
        notification__in=notifications,
        trigger_key__in=occurrences.values("pk"),
        status=DeliveryStatus.QUEUED,
    ).update(status=DeliveryStatus.SKIPPED, reason=reason, updated_at=timezone.now())


def _row_params(not_before: datetime | None) -> list:
    return [
        DeliveryStatus.QUEUED,
        DeliveryStatus.SKIPPED,
        sql.moment(not_before),
        sql.moment(timezone.now()),
    ]


def _device_rows(devices: QuerySet[Device]) -> tuple[str, tuple]:
    rows = devices.values("platform", "skip_reason", device=F("pk"))
    return rows.query.sql_with_params()


def claim(notification_id: int, size: int = BATCH_SIZE) -> list[int]:
    """Claim up to `size` deliveries for this worker: queued and due, or whose lease ran out.

    One statement: PostgreSQL skips the rows another worker has locked; SQLite runs one writer
    at a time, so two workers never claim the same row on either. A claimed delivery whose
    worker died before handing it to its provider is claimed again; one it had handed over is
    settled as unknown first, never sent twice.
    """
    settle_in_doubt(notification_id)
    now = timezone.now()
    lease_until = now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    table = Delivery._meta.db_table
    skip_locked = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    # One condition per statement and no ORDER BY: each is a short scan of the (notification,
    # status) index that stops at `size` rows; ordering by id made PostgreSQL read and sort every
    # queued row of the notification (half a second a batch at a million deliveries).
    conditions = [
        ("status = %s AND lease_until < %s", [DeliveryStatus.CLAIMED, now]),
        (
            "status = %s AND (not_before IS NULL OR not_before <= %s)",
            [DeliveryStatus.QUEUED, now],
        ),
    ]
    claimed: list[int] = []
    with connection.cursor() as cursor:
        for condition, params in conditions:
            wanted = size - len(claimed)
            if wanted <= 0:
                break
            cursor.execute(
                f"UPDATE {table} SET status = %s, lease_until = %s, attempts = attempts + 1 "  # noqa: S608
                f"WHERE id IN (SELECT id FROM {table} WHERE notification_id = %s AND "
                f"{condition} LIMIT %s{skip_locked}) RETURNING id",
                [DeliveryStatus.CLAIMED, lease_until, notification_id, *params, wanted],
            )
            claimed.extend(row[0] for row in cursor.fetchall())
    return sorted(claimed)


def settle_in_doubt(notification_id: int) -> int:
    """Mark unknown the deliveries a dead worker had handed to a provider without an answer.

    The provider may have delivered them: sending again could show the message twice.
    """
    return Delivery.objects.filter(
        notification_id=notification_id,
        status=DeliveryStatus.SENDING,
        lease_until__lt=timezone.now(),
    ).update(
        status=DeliveryStatus.UNKNOWN,
        reason="Its worker stopped after handing it to the provider; not sent again",
        lease_until=None,
        updated_at=timezone.now(),
    )


def send_batch(ids: list[int]) -> None:
    """Send claimed deliveries, grouped by platform, and record every answer.

    Quiet hours and frequency caps are judged first; a paused provider's deliveries wait.
    """
    deliveries = claimed.load(ids)
    if not deliveries:
        return
    # A batch is one notification's: loaded once, not joined into every row (it has columns for
    # each of 32 languages).
    notification = Notification.objects.select_related("app").get(pk=deliveries[0].notification_id)
    for delivery in deliveries:
        delivery.notification = notification
    if _expired(notification):
        _finish_unsent(deliveries, DeliveryStatus.EXPIRED, "")
        return
    renderer = rendering.BatchRenderer(notification, timezone.now())
    if renderer.personal:
        claimed.load_whole_devices(deliveries)
    verdict = send_rules.judge(notification, deliveries, timezone.now())
    for reason, skipped in verdict.skip.items():
        _finish_unsent(skipped, DeliveryStatus.SKIPPED, reason)
    for until, deferred in verdict.defer.items():
        _defer(deferred, until, "Quiet hours")
    by_platform: dict[str, list[ClaimedDelivery]] = defaultdict(list)
    for delivery in verdict.send:
        by_platform[delivery.device.platform].append(delivery)
    lease = Lease(ids)
    # Asked once a batch: each chunk's answers are announced with them when someone listens.
    announcing = bool(delivery_events.wanted(notification.app_id) & delivery_events.ANSWER_KINDS)
    for platform, group in by_platform.items():
        waiting = provider_health.waiting_until(notification.app, platform)
        if waiting:
            _defer(group, *waiting)
        else:
            _send_platform(renderer, platform, group, lease, announcing)


class Lease:
    """A worker's hold on its claimed batch, renewed while the batch takes long to send."""

    def __init__(self, ids: list[int]) -> None:
        self.ids, self.renewed = ids, time.monotonic()

    def hand_over(self, ids: list[int]) -> None:
        """Mark deliveries sending just before they leave, renewing the batch's lease if due."""
        seconds = settings.DELIVERY_LEASE_SECONDS
        until = timezone.now() + timedelta(seconds=seconds)
        if time.monotonic() - self.renewed > seconds / 3:
            _with_status(self.ids, DeliveryStatus.CLAIMED).update(lease_until=until)
            self.renewed = time.monotonic()
        _with_status(ids, DeliveryStatus.CLAIMED).update(
            status=DeliveryStatus.SENDING, lease_until=until
        )


def _with_status(ids: list[int], *statuses: str) -> QuerySet[Delivery]:
    return sql.with_ids(Delivery.objects.filter(status__in=statuses), ids)


def _send_platform(
    renderer: rendering.BatchRenderer,
    platform: str,
    group: list[ClaimedDelivery],
    lease: Lease,
    announcing: bool,
) -> None:
    """Hand the pushes over in chunks, each marked sending just before it leaves.

    A worker that dies leaves at most one chunk in doubt; the answers of each chunk are
    written before the next leaves, retried while the database is away.
    """
    notification = renderer.notification
    pushes, refused = _pushes(renderer, group)
    by_key = {str(d.pk): d for d in group}
    _persistently(_record, refused, by_key, announcing)
    if not pushes:
        return
    try:
        client = sending.client_for(notification.app, platform)
    except ProviderError as error:
        # A failure of the whole client (its credential removed mid-send, or its secret
        # unreadable): each push waits, and the provider's health hears of it as of a send.
        results = [Result(p.key, Outcome.RETRY, detail=error.message) for p in pushes]
        _persistently(_record, results, by_key, announcing)
        _persistently(provider_health.record, notification.app, platform, results)
        return
    answered: list[Result] = []
    with closing(client):
        for start in range(0, len(pushes), HANDOVER_SIZE):
            chunk = pushes[start : start + HANDOVER_SIZE]
            _persistently(lease.hand_over, [int(push.key) for push in chunk])
            results = _send_chunk(client, chunk)
            if _held(notification, platform, results, by_key, announcing):
                rest = [by_key[push.key] for push in pushes[start + HANDOVER_SIZE :]]
                _defer(rest, *_held_until(notification.app, platform))
                return
            _persistently(_record, results, by_key, announcing)
            answered.extend(results)
    _persistently(provider_health.record, notification.app, platform, answered)


def _held(
    notification: Notification,
    platform: str,
    results: list[Result],
    by_key: dict,
    announcing: bool,
) -> bool:
    """Hold the provider when most answers would retire their devices (or say they are another
    credential's); retire nobody then.

    The answered deliveries that would have been retired wait, costing no try, with the rest.
    """
    app = notification.app

    def first_batch() -> bool:
        return not _answered_before(notification, platform)

    if not provider_health.should_hold(app, platform, results, first_batch):
        return False
    provider_health.hold(app, platform, results, registry.NAMES[platform])
    retiring = [r for r in results if provider_health.is_misdirected(r)]
    others = [r for r in results if not provider_health.is_misdirected(r)]
    _persistently(_record, others, by_key, announcing)
    until, why = _held_until(app, platform)
    waiting = [by_key[r.key] for r in retiring]
    _keep_tries(waiting, retiring, until)
    _defer(waiting, until, why, statuses=(DeliveryStatus.SENDING,))
    return True


def _held_until(app: MobileApp, platform: str) -> tuple[datetime, str]:
    """Return until when a held provider's deliveries wait, and why."""
    waiting = provider_health.waiting_until(app, platform)
    return waiting or (timezone.now(), "")


def resume_waiting(app: MobileApp, platform: str) -> int:
    """Let the deliveries a held or paused provider kept waiting go now; return how many."""
    waiting = Delivery.objects.filter(
        notification__app=app,
        platform=platform,
        status=DeliveryStatus.QUEUED,
        not_before__gt=timezone.now(),
    )
    held = Q()
    for reason in provider_health.WAITING_REASONS:
        held |= Q(reason__startswith=reason)
    return waiting.filter(held).update(not_before=timezone.now(), updated_at=timezone.now())


def _answered_before(notification: Notification, platform: str) -> bool:
    """Tell whether the provider has answered one of the notification's deliveries before."""
    answered = Delivery.objects.filter(
        notification=notification, platform=platform, status__in=ATTEMPTED_DELIVERY_STATUSES
    )
    return answered.exists()


def _send_chunk(client: sending.Client, chunk: list[Push]) -> list[Result]:
    """Send through the provider; a failure of the whole client is retried for each push."""
    try:
        return client.send(chunk)
    except ProviderError as error:
        return [Result(p.key, Outcome.RETRY, detail=error.message) for p in chunk]


def _persistently(write: Callable[..., None], *args: object) -> None:
    """Run a database write, retrying while the database refuses connections.

    What a provider answered exists only here; losing it would leave its deliveries unknown.
    """
    deadline, wait = time.monotonic() + RECORD_RETRY_SECONDS, 0.5
    while True:
        try:
            write(*args)
            return
        except (OperationalError, InterfaceError):
            if time.monotonic() + wait > deadline:
                raise
            connection.close()
            time.sleep(wait)
            wait = min(wait * 2, 5.0)


def _pushes(
    renderer: rendering.BatchRenderer, group: list[ClaimedDelivery]
) -> tuple[list[Push], list[Result]]:
    """Render each delivery's push; a delivery that cannot be rendered fails with the reason."""
    pushes, refused = [], []
    now = timezone.now()
    for delivery in group:
        expired = _expired_address(delivery, now)
        if expired:
            refused.append(expired)
            continue
        try:
            pushes.append(renderer.push(delivery))
        except (ValueError, personalization.PersonalizationError) as error:
            refused.append(Result(str(delivery.pk), Outcome.MESSAGE_FAILED, detail=str(error)))
    return pushes, refused


def _expired_address(delivery: ClaimedDelivery, now: datetime) -> Result | None:
    """Refuse an address its service no longer takes (a WNS channel past its 30 days).

    The device is retired, as a gone one is, and waits for its app to register again.
    """
    expired = registry.provider(delivery.device.platform).address_expired(delivery.device, now)
    if not expired:
        return None
    return Result(str(delivery.pk), Outcome.DEVICE_GONE, reason="ChannelExpired", detail=expired)


def _record(
    results: list[Result], deliveries: dict[str, ClaimedDelivery], announcing: bool
) -> None:
    """Write a chunk's answers and, when `announcing`, announce the final ones in the same
    transaction, so a worker that dies later in its batch has announced every answer it wrote."""
    if not results:
        return
    now = timezone.now()
    with transaction.atomic() if announcing else nullcontext():
        _write_sent([r for r in results if r.outcome == Outcome.SENT], deliveries, now)
        others = [r for r in results if r.outcome != Outcome.SENT]
        for result in others:
            _apply(deliveries[result.key], result, now)
        gone = [deliveries[r.key].device for r in others if r.outcome == Outcome.DEVICE_GONE]
        for platform in {device.platform for device in gone}:
            sending.retire_gone(platform, [d.pk for d in gone if d.platform == platform])
        _write_statuses([deliveries[r.key] for r in others])
        retried = [r for r in others if deliveries[r.key].status == DeliveryStatus.QUEUED]
        if retried:
            _keep_tries([deliveries[r.key] for r in retried], retried, None)
        if announcing:
            app_id = deliveries[results[0].key].notification.app_id
            delivery_events.announce_answers(app_id, [int(r.key) for r in results], now)


def _write_sent(
    results: list[Result], deliveries: dict[str, ClaimedDelivery], now: datetime
) -> None:
    """Write the sent answers, most of every batch, in one statement without touching the
    deliveries in memory: only the provider's id, the language and any remark differ."""
    rows = [(int(r.key), r.provider_id, deliveries[r.key].language, _said(r)) for r in results]
    columns = {"provider_id": "text", "language": "text", "reason": "text"}
    same = {"status": DeliveryStatus.SENT, "sent_at": now, "lease_until": None, "updated_at": now}
    sql.update_rows(Delivery, columns, rows, same)


def _keep_tries(
    deliveries: list[ClaimedDelivery], results: list[Result], retry_at: datetime | None
) -> None:
    """Keep each answer that left its delivery waiting to try again (its final one it keeps)."""
    now = timezone.now()
    DeliveryAttempt.objects.bulk_create(
        DeliveryAttempt(
            delivery_id=delivery.pk,
            attempt=delivery.attempts,
            outcome=result.outcome.value,
            status=result.status,
            reason=_said(result),
            answered_at=now,
            retry_at=retry_at or delivery.not_before,
        )
        for delivery, result in zip(deliveries, results, strict=True)
    )


# What recording an answer writes, with each column's type for PostgreSQL's arrays.
STATUS_COLUMNS = {
    "status": "text",
    "reason": "text",
    "language": "text",
    "provider_id": "text",
    "retrying_since": "timestamptz",
    "sent_at": "timestamptz",
    "not_before": "timestamptz",
    "lease_until": "timestamptz",
    "updated_at": "timestamptz",
}


def _write_statuses(rows: list[ClaimedDelivery]) -> None:
    """Write the rows' answers in one statement (sql.update_rows).

    Django's bulk_update builds a CASE WHEN per field and row in Python, which cost more than
    sending the pushes.
    """
    values = [(d.pk, *(getattr(d, name) for name in STATUS_COLUMNS)) for d in rows]
    sql.update_rows(Delivery, STATUS_COLUMNS, values)


def _said(result: Result) -> str:
    return " ".join(filter(None, [result.reason, result.detail]))[:300]


def _apply(delivery: ClaimedDelivery, result: Result, now: datetime) -> None:
    delivery.reason = _said(result)
    delivery.provider_id, delivery.lease_until, delivery.updated_at = result.provider_id, None, now
    if result.outcome == Outcome.SENT:
        delivery.status, delivery.sent_at = DeliveryStatus.SENT, now
    elif result.outcome in RETRIED:
        _retry_or_give_up(delivery, result, now)
    elif result.outcome == Outcome.DEVICE_GONE and _channel_expires(delivery):
        delivery.status = DeliveryStatus.CHANNEL_EXPIRED
    else:
        delivery.status = DeliveryStatus.FAILED


def _channel_expires(delivery: ClaimedDelivery) -> bool:
    """Tell whether the device's service retires it as an expired channel (WNS)."""
    return sending.retired_as(delivery.device.platform) == DeviceStatus.CHANNEL_EXPIRED


def _retry_or_give_up(delivery: ClaimedDelivery, result: Result, now: datetime) -> None:
    """Queue the delivery for its next try, unless that would fall after its retry window.

    The window is the notification's lifetime, capped at RETRY_WINDOW_HOURS after the first
    answer that said "later". Given up, a refused credential is a failure; anything else
    unknown, as the provider may have delivered it.
    """
    delivery.retrying_since = delivery.retrying_since or now
    window_ends = delivery.retrying_since + timedelta(hours=settings.RETRY_WINDOW_HOURS)
    expires_at = delivery.notification.expires_at
    if expires_at is not None:
        window_ends = min(window_ends, expires_at)
    retry_at = now + _backoff(delivery.attempts, result.retry_after)
    if retry_at <= window_ends:
        delivery.status, delivery.not_before = DeliveryStatus.QUEUED, retry_at
    elif result.outcome == Outcome.AUTH_FAILED:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.status = DeliveryStatus.UNKNOWN


def _backoff(attempt: int, retry_after: float | None) -> timedelta:
    """Wait twice as long after each try, plus jitter; never less than the provider asked."""
    wait = min(BACKOFF_BASE * 2 ** (max(attempt, 1) - 1), BACKOFF_MAX)
    wait = wait * random.uniform(1.0, 1.5)  # noqa: S311 - jitter, not secrecy
    return max(wait, timedelta(seconds=retry_after or 0))


def _expired(notification: Notification) -> bool:
    return notification.expires_at is not None and notification.expires_at <= timezone.now()


def _finish_unsent(deliveries: list[ClaimedDelivery], status: str, reason: str) -> None:
    """Give claimed deliveries a final status without sending them."""
    ids = [d.pk for d in deliveries]
    _with_status(ids, DeliveryStatus.CLAIMED).update(
        status=status, reason=reason, lease_until=None, updated_at=timezone.now()
    )


def _defer(
    deliveries: list[ClaimedDelivery],
    until: datetime,
    reason: str,
    statuses: tuple[str, ...] = (DeliveryStatus.CLAIMED,),
) -> None:
    """Put claimed deliveries back in the queue until a time; the wait costs them no try."""
    ids = [d.pk for d in deliveries]
    _with_status(ids, *statuses).update(
        status=DeliveryStatus.QUEUED,
        reason=reason,
        not_before=until,
        lease_until=None,
        attempts=F("attempts") - 1,
        updated_at=timezone.now(),
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


def automated_with_open_deliveries() -> list[int]:
    """List the automated notifications (sent one person at a time) with deliveries to send."""
    open_deliveries = Delivery.objects.filter(notification=OuterRef("pk"), status__in=OPEN_STATUSES)
    automated = Notification.objects.filter(status=Status.AUTOMATED)
    return list(automated.filter(Exists(open_deliveries)).values_list("pk", flat=True))


def finish_if_done(notification_id: int) -> bool:
    """Complete a sending notification once none of its deliveries is queued or sending."""
    if Delivery.objects.filter(notification_id=notification_id, status__in=OPEN_STATUSES).exists():
        return False
    now = timezone.now()
    finished = Notification.objects.filter(pk=notification_id, status=Status.SENDING).update(
        status=Status.COMPLETED, completed_at=now, updated_at=now
    )
    return bool(finished)

"""Notifications for the dashboard, the API and sending: save, schedule, cancel, duplicate."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from campaigns import extensions, local_time, scheduling, tasks
from campaigns.models import EDITABLE_STATUSES, Notification, Purpose, ScheduleKind, Status

COPY_SUFFIX = " (copy)"
# A local time comes first in UTC+14 and last in UTC−12.
EARLIEST_OFFSET, LATEST_OFFSET = timedelta(hours=14), timedelta(hours=12)


@transaction.atomic
def save(notification: Notification, *, schedule: bool) -> None:
    """Save an edit; `schedule` queues it for its send time, otherwise it is kept as a draft."""
    if notification.pk:
        # Locked, so a send that starts meanwhile waits and then sends what was saved.
        _require_editable(Notification.objects.select_for_update().get(pk=notification.pk))
    notification.status = Status.SCHEDULED if schedule else Status.DRAFT
    notification.scheduled_at = timezone.now() if schedule else None
    if schedule and notification.schedule_kind == ScheduleKind.NOW:
        notification.send_at = notification.scheduled_at
    if notification.schedule_kind == ScheduleKind.LOCAL and notification.local_send_at:
        notification.send_at = first_local_send(notification.local_send_at)
    notification.save()
    scheduling.plan(notification)
    if schedule and notification.send_at <= timezone.now():
        # Due now (or, at a local time, already in some zones): start without waiting for Beat.
        transaction.on_commit(lambda: tasks.start_send.delay(notification.pk))


def first_local_send(wall_clock: datetime) -> datetime:
    """Return when a local time comes first anywhere: in UTC+14, the earliest zone."""
    return wall_clock - EARLIEST_OFFSET


def send_time_label(notification: Notification) -> str:
    """Describe when it sends, as the list of notifications shows it."""
    kind = notification.schedule_kind
    if kind == ScheduleKind.AT and notification.send_at:
        return local_time.with_utc(notification.send_at)
    if kind == ScheduleKind.LOCAL and notification.local_send_at:
        return f"{notification.local_send_at:%Y-%m-%d %H:%M} local time"
    return "Immediately"


@transaction.atomic
def cancel(notification: Notification, *, by_its_owner: bool = False) -> None:
    """Stop a draft or a scheduled notification from sending; it stays as a record.

    A notification another app owns (its purpose is not "campaign") is cancelled only by that
    app, as part of cancelling what it belongs to.
    """
    stored = Notification.objects.select_for_update().get(pk=notification.pk)
    _require_editable(stored)
    if stored.purpose != Purpose.CAMPAIGN and not by_its_owner:
        owner = extensions.part_of(stored)
        raise ValidationError(f"This notification is {owner.what}; cancel or pause that instead.")
    stored.status, stored.cancelled_at = Status.CANCELLED, timezone.now()
    stored.save(update_fields=["status", "cancelled_at", "updated_at"])
    scheduling.remove(stored)
    notification.refresh_from_db()


@transaction.atomic
def duplicate(notification: Notification, author: AbstractBaseUser | None) -> Notification:
    """Copy a notification as a new draft: content, target and options, not its history."""
    segments = list(notification.segments.all())
    copy = Notification.objects.get(pk=notification.pk)
    copy.pk = None
    copy.name = (notification.name[: 128 - len(COPY_SUFFIX)]) + COPY_SUFFIX
    copy.status, copy.author, copy.purpose = Status.DRAFT, author, Purpose.CAMPAIGN
    copy.scheduled_at = copy.started_at = copy.completed_at = copy.cancelled_at = None
    copy.save()
    copy.segments.set(segments)
    return copy


def _require_editable(stored: Notification) -> None:
    if stored.status not in EDITABLE_STATUSES:
        raise ValidationError(
            f"This notification is {stored.get_status_display().lower()}; it can no longer be "
            "changed. Duplicate it to send it again."
        )

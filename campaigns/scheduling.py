"""Give a scheduled notification its one-off Beat tasks: its send and its expiry.

Beat's database scheduler runs each at its time (django-celery-beat clocked schedules). The
sweep in campaigns.tasks catches anything these miss, so losing one delays a send by a minute
at most; running one twice changes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, PeriodicTask

from campaigns.models import Notification, ScheduleKind, Status


def task_names(notification: Notification) -> tuple[str, str]:
    return f"notification {notification.pk}: send", f"notification {notification.pk}: expire"


def plan(notification: Notification) -> None:
    """Replace the notification's Beat tasks with those its schedule and expiry now call for."""
    remove(notification)
    if notification.status != Status.SCHEDULED:
        return
    send_name, expire_name = task_names(notification)
    if notification.schedule_kind != ScheduleKind.NOW and notification.send_at > timezone.now():
        _one_off(send_name, "campaigns.start_send", notification.send_at, notification.pk)
    if notification.expires_at:
        _one_off(expire_name, "campaigns.expire", notification.expires_at, notification.pk)


def remove(notification: Notification) -> None:
    """Delete the notification's Beat tasks and their clocked schedules."""
    tasks = PeriodicTask.objects.filter(name__in=task_names(notification))
    clocked = [task.clocked_id for task in tasks if task.clocked_id]
    tasks.delete()
    ClockedSchedule.objects.filter(pk__in=clocked, periodictask__isnull=True).delete()


def _one_off(name: str, task: str, when: datetime, notification_id: int) -> None:
    clocked = ClockedSchedule.objects.create(clocked_time=when)
    PeriodicTask.objects.create(
        name=name, task=task, clocked=clocked, one_off=True, args=json.dumps([notification_id])
    )

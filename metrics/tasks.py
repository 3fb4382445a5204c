"""Keep rollups current: each run recomputes the notifications whose figures moved."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from campaigns.models import Notification
from metrics import rollup
from pushcenter import isolation


@shared_task(name="metrics.roll_up", ignore_result=True)
def roll_up() -> int:
    """Recompute the rollup of each notification that is sending, just ended or was launched."""
    stale = rollup.stale(timezone.now())
    for notification in Notification.objects.filter(pk__in=stale):
        # A rollup that fails is logged and tried again next run; it is not the notification's
        # own error, so its page is left alone.
        with isolation.boundary(Notification, notification.pk, mark=False):
            rollup.refresh(notification)
    return len(stale)

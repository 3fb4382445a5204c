"""Keep rollups current: each run recomputes the notifications whose figures moved."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from campaigns.models import Notification
from metrics import rollup


@shared_task(name="metrics.roll_up", ignore_result=True)
def roll_up() -> int:
    """Recompute the rollup of each notification that is sending, just ended or was launched."""
    stale = rollup.stale(timezone.now())
    for notification in Notification.objects.filter(pk__in=stale):
        rollup.refresh(notification)
    return len(stale)

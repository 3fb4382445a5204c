"""Celery tasks that send notifications; each takes ids and may run twice harmlessly.

Each notification's work runs in its own error boundary (pushcenter.isolation): one that fails
(a segment it targets cannot be evaluated, say) is marked with the error and tried again at the
next sweep; the others, every app's, go on.
"""

from __future__ import annotations

import math
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from campaigns import audience, conversions, delivery
from campaigns.models import Notification, Status
from devices.models import MobileApp
from pushcenter import isolation


@shared_task(name="campaigns.start_send", ignore_result=True)
def start_send(notification_id: int) -> None:
    """Fan a due notification out into deliveries and set workers on them."""
    made = None
    with isolation.boundary(Notification, notification_id) as outcome:
        made = delivery.start(notification_id)
    if outcome.error:
        audience.record_segment_errors(notification_id)
    if made is None:
        return
    for _ in range(senders_for(made)):
        send_deliveries.delay(notification_id)


def senders_for(deliveries: int) -> int:
    """One sending task per batch, up to the setting: every free worker process joins in."""
    batches = math.ceil(deliveries / delivery.BATCH_SIZE)
    return max(1, min(batches, settings.SENDERS_PER_NOTIFICATION))


@shared_task(name="campaigns.send_deliveries", ignore_result=True)
def send_deliveries(notification_id: int) -> None:
    """Claim and send batches until none is left to claim, then complete if all is done."""
    while ids := delivery.claim(notification_id):
        delivery.send_batch(ids)
    delivery.finish_if_done(notification_id)


@shared_task(name="campaigns.expire", ignore_result=True)
def expire(notification_id: int) -> None:
    """At expiry: a notification not yet started expires; a sending one sends nothing more."""
    with isolation.boundary(Notification, notification_id):
        delivery.expire(notification_id)
        delivery.finish_if_done(notification_id)


@shared_task(name="campaigns.sweep", ignore_result=True)
def sweep() -> None:
    """Each minute: start what is due, expire what has expired, resume what waits.

    What waits: retries, local times, quiet hours, and automated notifications' deliveries.
    """
    now = timezone.now()
    for notification_id in delivery.due_notifications(now):
        start_send.delay(notification_id)
    for notification_id in delivery.expired_before_sending(now):
        expire.delay(notification_id)
    for notification in Notification.objects.filter(status=Status.SENDING):
        with isolation.boundary(Notification, notification.pk):
            _resume(notification, now)
    for notification_id in delivery.automated_with_open_deliveries():
        send_deliveries.delay(notification_id)


def _resume(notification: Notification, now: datetime) -> None:
    """Expire a sending notification whose time is up, else set a worker on what is left."""
    if notification.expires_at and notification.expires_at <= now:
        delivery.expire(notification.pk)
    if not delivery.finish_if_done(notification.pk):
        send_deliveries.delay(notification.pk)


@shared_task(name="campaigns.count_conversions", ignore_result=True)
def count_conversions() -> int:
    """Count the conversions of each app's new events; return how many were made."""
    made = 0
    for app_id in conversions.apps_with_goals():
        # An app whose counting fails keeps its mark and is tried again next run; the others'
        # go on. The failure is the task's, not the app's configuration, so only logged.
        with isolation.boundary(MobileApp, app_id, mark=False):
            made += len(conversions.count(app_id))
    return made

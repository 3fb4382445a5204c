"""The journeys' Celery tasks: Beat runs them all each sweep; an event sends what it made due."""

from __future__ import annotations

from celery import shared_task

from campaigns.tasks import send_deliveries
from journeys import runner


@shared_task(name="journeys.run", ignore_result=True)
def run_journeys() -> None:
    """Enrol what the triggers found and send the due steps, then set workers on them."""
    for notification_id in runner.run():
        send_deliveries.delay(notification_id)


@shared_task(name="journeys.send_due", ignore_result=True)
def send_due_steps() -> None:
    """Send the due steps without scanning the triggers: an event's enrolments need no scan."""
    for notification_id in runner.send_due():
        send_deliveries.delay(notification_id)

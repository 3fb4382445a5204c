"""The journeys' Celery task: Beat runs it each sweep, and an event runs it at once."""

from __future__ import annotations

from celery import shared_task

from campaigns.tasks import send_deliveries
from journeys import runner


@shared_task(name="journeys.run", ignore_result=True)
def run_journeys() -> None:
    """Enrol what the triggers found and send the due steps, then set workers on them."""
    for notification_id in runner.run():
        send_deliveries.delay(notification_id)

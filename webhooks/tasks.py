"""Celery tasks that post webhook batches; each takes ids and may run twice harmlessly."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from pushcenter import isolation
from webhooks import dispatch
from webhooks.models import Endpoint


@shared_task(name="webhooks.dispatch", ignore_result=True)
def dispatch_due() -> None:
    """Batch each endpoint's new events, then set a task on every free lane of an endpoint
    with batches due.

    Each endpoint's batching runs in its own boundary: one that fails does not stop the others.
    """
    for endpoint_id in dispatch.endpoints_with_new_events():
        with isolation.boundary(Endpoint, endpoint_id, mark=False):
            dispatch.make_batches(endpoint_id)
    for batch_id in dispatch.claim_lanes():
        transaction.on_commit(lambda batch_id=batch_id: deliver.delay(batch_id))
    dispatch.prune()


@shared_task(name="webhooks.deliver", ignore_result=True)
def deliver(batch_id: int) -> None:
    """POST a claimed batch, then the endpoint's next due ones for a while (a lane).

    Routed to the "webhooks" queue (settings.CELERY_TASK_ROUTES): the workers that send
    notifications never wait on an endpoint.
    """
    dispatch.deliver_lane(batch_id)

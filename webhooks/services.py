"""Manage an app's webhook endpoints and their dead letters: what the dashboard and the API
both call."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from devices import delivery_events
from devices.models import MobileApp
from webhooks import capture, destinations, signing
from webhooks.models import Batch, BatchStatus, Endpoint

MAX_ENDPOINTS_PER_APP = 10
MAX_DESCRIPTION = 200
# How long a rotated secret's predecessor still signs: a day to update the receivers.
PREVIOUS_SECRET_KEPT = timedelta(days=1)
TEST_KIND = "test"


def check_url(url: str) -> str:
    """Return the URL if the server may call it; ValidationError on "url" naming the rule."""
    try:
        destinations.resolve(url)
    except destinations.DestinationError as error:
        raise ValidationError({"url": f"The URL {error}."}) from None
    return url


def check_kinds(kinds: Iterable[str]) -> list[str]:
    """Return the kinds in the product's order; ValidationError on "events" for an unknown one."""
    kinds = list(kinds)
    unknown = sorted(set(kinds) - set(delivery_events.KINDS))
    if unknown:
        raise ValidationError(
            {
                "events": f"Unknown event kind {unknown[0]!r}; "
                f"use {', '.join(delivery_events.KINDS)}."
            }
        )
    if not kinds:
        raise ValidationError({"events": "Choose at least one kind of event."})
    return [kind for kind in delivery_events.KINDS if kind in kinds]


def check_room(app: MobileApp) -> None:
    """Refuse an endpoint beyond the app's limit."""
    if Endpoint.objects.filter(app=app).count() >= MAX_ENDPOINTS_PER_APP:
        raise ValidationError(
            {
                "url": f"An app has at most {MAX_ENDPOINTS_PER_APP} webhook endpoints; "
                "remove one first."
            }
        )


def create_endpoint(
    app: MobileApp, url: str, kinds: Iterable[str], description: str = "", enabled: bool = True
) -> tuple[Endpoint, str]:
    """Add an endpoint to the app; return it and its secret (shown this once)."""
    check_room(app)
    endpoint = Endpoint(app=app, url=check_url(url), description=description, enabled=enabled)
    endpoint.set_kinds(check_kinds(kinds))
    secret = signing.new_secret()
    endpoint.store_secret(secret)
    endpoint.save()
    capture.forget_wanted(app.pk)
    return endpoint, secret


def change_endpoint(endpoint: Endpoint, **changes: object) -> Endpoint:
    """Change an endpoint's URL, kinds, description or enabled flag; enabling it unpauses it."""
    if "url" in changes:
        endpoint.url = check_url(str(changes["url"]))
    if "kinds" in changes:
        endpoint.set_kinds(check_kinds(changes["kinds"]))  # type: ignore[arg-type]
    if "description" in changes:
        endpoint.description = str(changes["description"])
    if "enabled" in changes:
        set_enabled(endpoint, bool(changes["enabled"]), save=False)
    endpoint.save()
    capture.forget_wanted(endpoint.app_id)
    return endpoint


def set_enabled(endpoint: Endpoint, enabled: bool, save: bool = True) -> None:
    """Enable or disable an endpoint; enabling it also lifts a pause and its failure count."""
    endpoint.enabled = enabled
    if enabled:
        endpoint.paused_at, endpoint.paused_reason, endpoint.consecutive_failures = None, "", 0
    if save:
        endpoint.save()
        capture.forget_wanted(endpoint.app_id)


def delete_endpoint(endpoint: Endpoint) -> None:
    app_id = endpoint.app_id
    endpoint.delete()
    capture.forget_wanted(app_id)


def rotate_secret(endpoint: Endpoint) -> str:
    """Give the endpoint a new secret (returned, shown once); the old one signs for a day more."""
    secret = signing.new_secret()
    endpoint.store_secret(secret, keep_previous_until=timezone.now() + PREVIOUS_SECRET_KEPT)
    endpoint.save()
    return secret


def send_test_event(endpoint: Endpoint) -> Batch:
    """Queue a batch of one test event for the endpoint, due now."""
    now = timezone.now()
    event = {
        "id": f"{TEST_KIND}-{now.timestamp():.6f}",
        "kind": TEST_KIND,
        "app_id": str(endpoint.app.application_id),
        "occurred_at": now.isoformat().replace("+00:00", "Z"),
        "data": {"message": "A test event from Push Center."},
    }
    body = json.dumps({"events": [event]}, separators=(",", ":"))
    return Batch.objects.create(endpoint=endpoint, body=body, event_count=1)


def dead_letters(app: MobileApp) -> QuerySet[Batch]:
    """Return the app's batches that were given up on, newest first."""
    return Batch.objects.filter(endpoint__app=app, status=BatchStatus.DEAD).order_by("-finished_at")


def replay(batches: QuerySet[Batch]) -> int:
    """Send these dead letters again from the first try; return how many."""
    with transaction.atomic():
        return batches.filter(status=BatchStatus.DEAD).update(
            status=BatchStatus.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            finished_at=None,
            last_error="",
        )

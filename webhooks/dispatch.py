"""Post the kept events to their endpoints: in batches, signed, retried with back-off, and
set aside as dead letters when they cannot be delivered.

A periodic task (tasks.dispatch) gathers each endpoint's new events into batches, claims the
batches that are due (SELECT … FOR UPDATE SKIP LOCKED, with a lease) and sets a task on each;
waits between tries are rows' due times, never delays parked in the broker. Sending never waits
on any of it: capturing an event is a row, posting it another worker's task.

Events of one endpoint are not promised in order: a batch that is retried arrives after later
ones. Each event carries its own time and id; receivers de-duplicate on the id.
"""

from __future__ import annotations

import json
import random
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from campaigns import launches
from devices.providers import base as providers
from pushcenter import isolation
from webhooks import capture, destinations, signing
from webhooks.models import Attempt, Batch, BatchStatus, Endpoint, Event

# What one POST carries at most: events, and bytes of body.
BATCH_EVENTS = 100
BATCH_BYTES = 256 * 1024
# Batches made for one endpoint in one run (50,000 events); the next run makes more.
BATCHES_PER_RUN = 500
# Tasks posting to one endpoint at once, and how long one goes on to the endpoint's next batch.
LANES_PER_ENDPOINT = 2
LANE_SECONDS = 30
# A claimed batch's worker may take this long before another worker claims it again: more than
# one POST's timeouts.
LEASE = timedelta(seconds=60)
# Seconds to connect; settings.WEBHOOKS_TIMEOUT_SECONDS bounds each of writing and reading. A
# slow endpoint holds a worker about that long per batch, not more.
CONNECT_TIMEOUT = 3.0
# What is kept of an answer's body: enough to read an error, never the whole of it; and what is
# read of it at most (an answer read to its end lets the connection serve the next batch).
RESPONSE_PREFIX = 200
RESPONSE_READ = 16 * 1024
# The wait after each failed try, before the next (± 20 % jitter so that endpoints failing
# together do not come back together). Eight tries over about eleven hours: long enough to ride
# out a receiver's deploy or an outage of an afternoon, after which the batch is a dead letter.
RETRY_WAITS = (
    timedelta(seconds=30),  # after try 1
    timedelta(minutes=2),  # after try 2
    timedelta(minutes=10),  # after try 3
    timedelta(minutes=30),  # after try 4
    timedelta(hours=1),  # after try 5
    timedelta(hours=3),  # after try 6
    timedelta(hours=6),  # after try 7; the 8th try is the last
)
MAX_TRIES = len(RETRY_WAITS) + 1
JITTER = 0.2
# A Retry-After longer than this is waited this long instead.
RETRY_AFTER_CAP = timedelta(hours=1)
# Failed tries in a row (across its batches) after which an endpoint is paused.
PAUSE_AFTER_FAILURES = 50
# 408 and 429 ask to try later; every other 4xx says the request will never be taken.
RETRIED_CLIENT_ERRORS = (408, 429)
DELIVERED, RETRY, PERMANENT = "delivered", "retry", "permanent"


@dataclass(frozen=True)
class Answer:
    """How one POST ended."""

    outcome: str
    status_code: int | None = None
    error: str = ""
    response_prefix: str = ""
    retry_after: float | None = None


# Making batches


def endpoints_with_new_events() -> list[int]:
    """Return the endpoints with events not yet in a batch."""
    return list(
        Event.objects.filter(batch__isnull=True).values_list("endpoint_id", flat=True).distinct()
    )


def make_batches(endpoint_id: int) -> int:
    """Gather an endpoint's new events into batches (at most BATCHES_PER_RUN); return how many."""
    endpoint = Endpoint.objects.select_related("app").get(pk=endpoint_id)
    made = 0
    while made < BATCHES_PER_RUN:
        events = list(
            Event.objects.filter(endpoint=endpoint, batch__isnull=True).order_by("id")[
                :BATCH_EVENTS
            ]
        )
        if not events:
            break
        _make_batch(endpoint, events)
        made += 1
    return made


def _make_batch(endpoint: Endpoint, events: list[Event]) -> Batch:
    """Make one batch of the leading events that fit in BATCH_BYTES (always at least one)."""
    application_id = str(endpoint.app.application_id)
    parts, size = [], 0
    for event in events:
        part = json.dumps(event_json(event, application_id), separators=(",", ":"))
        if parts and size + len(part) + 1 > BATCH_BYTES - 64:
            break
        parts.append(part)
        size += len(part) + 1
    body = '{"events":[' + ",".join(parts) + "]}"
    with transaction.atomic():
        batch = Batch.objects.create(endpoint=endpoint, body=body, event_count=len(parts))
        Event.objects.filter(pk__in=[e.pk for e in events[: len(parts)]]).update(batch=batch)
    return batch


def event_json(event: Event, application_id: str) -> dict:
    """Return the event as its receiver reads it."""
    data = dict(event.data or {})
    if event.reason:
        data["reason"] = event.reason
    return {
        "id": event.event_id,
        "kind": event.kind,
        "app_id": application_id,
        "notification_id": event.notification_id,
        "delivery_id": event.delivery_id,
        "tracking_id": launches.tracking_id(event.delivery_id) if event.delivery_id else None,
        "install_id": str(event.install_id) if event.install_id else None,
        "user_id": event.user_id,
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }


# Claiming due batches


def endpoints_with_due_batches() -> list[int]:
    """Return the enabled, unpaused endpoints with a batch due for a try."""
    return list(
        Batch.objects.filter(_due(), endpoint__enabled=True, endpoint__paused_at__isnull=True)
        .values_list("endpoint_id", flat=True)
        .distinct()
    )


def claim_lanes() -> list[int]:
    """Claim the first batch of every free lane of each endpoint with batches due.

    An endpoint is posted to by at most LANES_PER_ENDPOINT tasks at once; a lane's task goes on
    to the endpoint's next due batch itself (deliver_lane), so a slow endpoint holds that many
    workers at most, and an endpoint that answers quickly is not limited to one batch a run.
    """
    claimed = []
    for endpoint_id in endpoints_with_due_batches():
        # One endpoint's failure (its rows locked past a timeout, say) leaves the others' lanes.
        with isolation.boundary(Endpoint, endpoint_id, mark=False):
            free = LANES_PER_ENDPOINT - _in_flight(endpoint_id)
            if free > 0:
                claimed += claim(endpoint_id, free)
    return claimed


def _due() -> Q:
    now = timezone.now()
    return Q(status=BatchStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=BatchStatus.SENDING, lease_until__lt=now
    )


def _in_flight(endpoint_id: int) -> int:
    live = Q(status=BatchStatus.SENDING, lease_until__gte=timezone.now())
    return Batch.objects.filter(live, endpoint_id=endpoint_id).count()


def claim(endpoint_id: int, count: int) -> list[int]:
    """Claim up to `count` due batches of an enabled, unpaused endpoint; return their ids.

    A batch whose worker died is due again once its lease runs out.
    """
    with transaction.atomic():
        ids = list(
            Batch.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                _due(),
                endpoint_id=endpoint_id,
                endpoint__enabled=True,
                endpoint__paused_at__isnull=True,
            )
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:count]
        )
        Batch.objects.filter(pk__in=ids).update(
            status=BatchStatus.SENDING, lease_until=timezone.now() + LEASE
        )
    return ids


def deliver_lane(batch_id: int) -> int:
    """Post a claimed batch, then the endpoint's next due ones while they are delivered, for
    LANE_SECONDS at most; return how many were posted.

    A failure ends the lane: the endpoint's other batches wait for their own due times.
    """
    endpoint_id = Batch.objects.filter(pk=batch_id).values_list("endpoint_id", flat=True).first()
    deadline, posted = time.monotonic() + LANE_SECONDS, 0
    next_id: int | None = batch_id
    # One client for the lane: its batches go out over the same kept-alive connection.
    with http_client() as client:
        while next_id is not None:
            outcome = deliver(next_id, client)
            posted += outcome is not None
            if outcome != DELIVERED or time.monotonic() > deadline:
                break
            next_id = next(iter(claim(endpoint_id, 1)), None)
    return posted


# Posting a batch


def deliver(batch_id: int, client: httpx.Client) -> str | None:
    """POST a claimed batch and record how it went; None if it is no longer claimed."""
    batch = (
        Batch.objects.select_related("endpoint")
        .filter(pk=batch_id, status=BatchStatus.SENDING)
        .first()
    )
    if batch is None:
        return None
    started, clock = timezone.now(), time.monotonic()
    answer = post(client, batch.endpoint, batch.body.encode(), batch.pk)
    duration_ms = int((time.monotonic() - clock) * 1000)
    record(batch, answer, started, duration_ms)
    return answer.outcome


def http_client() -> httpx.Client:
    """Return a client for posting batches: our CA bundle, the timeouts, no redirects."""
    return httpx.Client(
        verify=_tls_context(settings.CA_BUNDLE),
        timeout=httpx.Timeout(settings.WEBHOOKS_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT),
        follow_redirects=False,
        trust_env=False,
    )


def post(client: httpx.Client, endpoint: Endpoint, body: bytes, batch_id: int) -> Answer:
    """POST a signed body to the endpoint, to the address its check resolved; say how it went."""
    try:
        destination = destinations.resolve(endpoint.url)
    except destinations.UnresolvedHost as error:
        return Answer(RETRY, error=f"The URL {error}.")
    except destinations.DestinationError as error:
        return Answer(PERMANENT, error=f"The URL {error}.")
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PushCenter-Webhooks/1",
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.signature_header(
            endpoint.signing_secrets(), timestamp, body
        ),
        signing.BATCH_HEADER: str(batch_id),
    }
    try:
        return _send(client, destination, headers, body)
    except httpx.TimeoutException:
        allowed = settings.WEBHOOKS_TIMEOUT_SECONDS
        return Answer(RETRY, error=f"No answer within the time allowed ({allowed:g} s).")
    except httpx.HTTPError as error:
        return Answer(RETRY, error=f"Could not reach the endpoint: {error}"[:300])


def _send(
    client: httpx.Client, destination: destinations.Destination, headers: dict, body: bytes
) -> Answer:
    url = httpx.URL(destination.url)
    address = destination.address
    headers["Host"] = url.netloc.decode()
    request = client.build_request(
        "POST",
        url.copy_with(host=address),
        content=body,
        headers=headers,
        extensions={"sni_hostname": destination.host},
    )
    response = client.send(request, stream=True)
    try:
        return _classify(response, _prefix(response))
    finally:
        response.close()


def _prefix(response: httpx.Response) -> str:
    """Keep the start of the answer's body; read at most RESPONSE_READ bytes of it.

    An answer read to its end leaves its connection open for the lane's next batch.
    """
    kept, read = b"", 0
    for chunk in response.iter_raw():
        kept += chunk[: max(RESPONSE_PREFIX - len(kept), 0)]
        read += len(chunk)
        if read >= RESPONSE_READ:
            break
    return kept.decode("utf-8", "replace")


def _classify(response: httpx.Response, prefix: str) -> Answer:
    """Delivered (2xx), retried (408, 429, 5xx) or permanent (any other answer)."""
    code = response.status_code
    if 200 <= code < 300:
        return Answer(DELIVERED, code, response_prefix=prefix)
    if code in RETRIED_CLIENT_ERRORS or code >= 500:
        # In seconds or as an HTTP date (RFC 9110, 10.2.3), read as the providers' answers are.
        retry_after = providers.retry_after(response.headers)
        return Answer(RETRY, code, f"HTTP {code}", prefix, retry_after)
    if 300 <= code < 400:
        error = f"HTTP {code}: redirects are not followed; give the endpoint its final URL."
        return Answer(PERMANENT, code, error, prefix)
    return Answer(PERMANENT, code, f"HTTP {code}: the endpoint refused the batch.", prefix)


@lru_cache(maxsize=4)
def _tls_context(ca_bundle: str) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_bundle:
        context.load_verify_locations(ca_bundle)
    return context


# Recording how it went


def record(batch: Batch, answer: Answer, started: datetime, duration_ms: int) -> None:
    """Keep the attempt as a row; deliver, schedule the next try, or set the batch aside."""
    now = timezone.now()
    batch.attempts += 1
    Attempt.objects.create(
        batch=batch,
        number=batch.attempts,
        started_at=started,
        duration_ms=duration_ms,
        status_code=answer.status_code,
        outcome=answer.outcome,
        error=answer.error[:300],
        response_prefix=answer.response_prefix,
    )
    batch.lease_until, batch.last_error = None, answer.error[:300]
    if answer.outcome == DELIVERED:
        batch.status, batch.finished_at = BatchStatus.DELIVERED, now
    elif answer.outcome == RETRY and batch.attempts < MAX_TRIES:
        batch.status = BatchStatus.PENDING
        batch.next_attempt_at = now + next_wait(batch.attempts, answer.retry_after)
    else:
        batch.status, batch.finished_at = BatchStatus.DEAD, now
    batch.save(
        update_fields=[
            "attempts",
            "status",
            "next_attempt_at",
            "lease_until",
            "last_error",
            "finished_at",
        ]
    )
    _count_failure(batch.endpoint, failed=answer.outcome != DELIVERED)


def next_wait(tries: int, retry_after: float | None) -> timedelta:
    """The table's wait after this many tries, jittered; longer if Retry-After asks (capped)."""
    wait = RETRY_WAITS[min(tries, len(RETRY_WAITS)) - 1]
    wait *= random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 - jitter, not secrecy
    asked = min(timedelta(seconds=retry_after or 0), RETRY_AFTER_CAP)
    return max(wait, asked)


def _count_failure(endpoint: Endpoint, failed: bool) -> None:
    """Count failed tries in a row; pause the endpoint once they are too many."""
    endpoints = Endpoint.objects.filter(pk=endpoint.pk)
    if not failed:
        endpoints.exclude(consecutive_failures=0).update(consecutive_failures=0)
        return
    endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
    paused = endpoints.filter(
        consecutive_failures__gte=PAUSE_AFTER_FAILURES, paused_at__isnull=True
    ).update(
        paused_at=timezone.now(),
        paused_reason=f"Paused after {PAUSE_AFTER_FAILURES} failed tries in a row; "
        "enable it again once it answers.",
    )
    if paused:
        capture.forget_wanted(endpoint.app_id)


# Keeping the tables small

DELIVERED_KEPT = timedelta(days=7)
DEAD_KEPT = timedelta(days=30)


def prune() -> int:
    """Delete delivered batches after a week and dead letters after a month; return how many."""
    now = timezone.now()
    old = Q(status=BatchStatus.DELIVERED, finished_at__lt=now - DELIVERED_KEPT) | Q(
        status=BatchStatus.DEAD, finished_at__lt=now - DEAD_KEPT
    )
    deleted, _ = Batch.objects.filter(old).delete()
    return deleted


def run_due() -> int:
    """Make batches and post every due one here and now; return how many were posted.

    What the periodic task and its lanes do, in this process, one lane after another: for the
    tests and the benchmark.
    """
    while endpoints := endpoints_with_new_events():
        for endpoint_id in endpoints:
            make_batches(endpoint_id)
    posted = 0
    while ids := claim_lanes():
        for batch_id in ids:
            posted += deliver_lane(batch_id)
    return posted

"""Move people along their journeys: enrol what the triggers found, send the steps now due.

Each due step becomes a delivery of the step's notification, made in the same transaction that
moves its enrollment on, so a step is never made twice; the enrollment's id is the delivery's
trigger key, so a pass through the journey gets each step once. The campaign workers send it,
with the app's opt-out, categories, frequency caps and quiet hours.

Each journey's scan and each step's deliveries run in their own error boundary
(pushcenter.isolation): a journey that fails (its segment cannot be evaluated, say) is marked
with the error (a step that fails marks its message) and its due steps wait BROKEN_STEP_RETRY;
every other journey runs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from campaigns import audience, delivery
from campaigns.models import Notification
from journeys import enrollment, exits, flow
from journeys.models import (
    EndReason,
    Enrollment,
    EnrollmentStatus,
    Journey,
    JourneyStatus,
    Step,
    StepKind,
    Trigger,
)
from pushcenter import isolation
from segments import services as segments

BATCH_SIZE = 1000
SCANNED_TRIGGERS = (Trigger.FIRST_REGISTRATION, Trigger.SEGMENT_ENTRY)
# How long the due steps of a journey that failed wait before they are tried again: long enough
# not to fill every batch with them, short enough that a fix is soon seen.
BROKEN_STEP_RETRY = timedelta(minutes=10)


def run(now: datetime | None = None) -> list[int]:
    """Scan the triggers and the exit segments, then send every due step.

    Returns the notifications given deliveries.
    """
    now = now or timezone.now()
    exits.sweep_left_segment(now)
    scanned = Journey.objects.filter(status=JourneyStatus.ACTIVE, trigger__in=SCANNED_TRIGGERS)
    for journey_id, segment_id in scanned.values_list("pk", "segment_id"):
        with isolation.boundary(Journey, journey_id) as outcome:
            enrollment.scan(journey_id, now)
        if segment_id is not None:
            broken = segments.record_evaluation(segment_id, failed=bool(outcome.error))
            if broken:
                isolation.mark_error(Journey, journey_id, broken)
    return send_due(now)


def send_due(now: datetime | None = None) -> list[int]:
    """Make the deliveries of every due step; return the notifications given deliveries."""
    now = now or timezone.now()
    touched: set[int] = set()
    # A wait or a step of no wait leads on to a step due at once: it is taken in this run.
    while (batch := advance(now)) is not None:
        touched.update(batch)
    return sorted(touched)


def advance(now: datetime, size: int = BATCH_SIZE) -> list[int] | None:
    """Take up to `size` due steps and move their enrollments on.

    Returns the notifications that got deliveries; None when nothing was due.
    """
    with transaction.atomic():
        due = Enrollment.objects.filter(
            status=EnrollmentStatus.ACTIVE, next_at__lte=now, journey__status=JourneyStatus.ACTIVE
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        rows = list(due.order_by("next_at").values_list("pk", "journey_id", "next_position")[:size])
        if not rows:
            return None
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        for pk, journey_id, position in rows:
            groups[(journey_id, position)].append(pk)
        made = [
            _take_step_isolated(journey, position, ids, now)
            for (journey, position), ids in groups.items()
        ]
        return [notification_id for notification_id in made if notification_id]


def _take_step_isolated(journey_id: int, position: int, ids: list[int], now: datetime) -> int:
    """Take one journey's step; if it fails, mark what failed and let those enrollments wait."""
    with isolation.boundary(Journey, journey_id) as outcome:
        # Re-checked inside the claim: one who left the exit segment gets nothing more.
        ids = exits.drop_left_segment(Journey.objects.get(pk=journey_id), ids, now)
    if outcome.error:
        _postpone(ids, now)
        return 0
    step = Step.objects.filter(journey_id=journey_id, position=position).first()
    made = 0
    # A message is what is broken (its target, say): its page shows the error.
    message = step.notification_id if step else None
    model, pk = (Notification, message) if message else (Journey, journey_id)
    with isolation.boundary(model, pk) as outcome:
        made = _take_step(journey_id, position, ids, now)
    if outcome.error:
        _postpone(ids, now)
        if message:
            audience.record_segment_errors(message)
    return made


def _postpone(ids: list[int], now: datetime) -> None:
    # Left due, they would come first in every batch and could crowd out other journeys.
    Enrollment.objects.filter(pk__in=ids).update(next_at=now + BROKEN_STEP_RETRY)


def _take_step(journey_id: int, position: int, ids: list[int], now: datetime) -> int:
    """Take one step for these enrollments and point them at the step their way leads to.

    Returns the step's notification, or 0 when it sent nothing (a wait, or a removed step).
    """
    steps = list(Step.objects.filter(journey_id=journey_id).select_related("notification"))
    step = next((s for s in steps if s.position == position), None)
    enrollments = Enrollment.objects.filter(pk__in=ids)
    if step is None:
        # Removed while the journey was paused: passed, as if it were done.
        gone = Step(journey_id=journey_id, position=position)
        _move(enrollments, flow.target(steps, gone, None), now)
        return 0
    if step.kind == StepKind.WAIT_FOR_EVENT:
        _leave_wait(steps, step, enrollments, now)
        return 0
    # Each enrollment is an occurrence of the step's trigger: its id keys its delivery.
    delivery.insert_triggered(step.notification, enrollments)
    _move(enrollments, flow.target(steps, step, step.then_step), now)
    return step.notification_id


def _leave_wait(steps: list[Step], step: Step, enrollments: QuerySet, now: datetime) -> None:
    """Send those whose event came the "then" way and those timed out the "else" way."""
    came = list(enrollments.filter(event_came_at__isnull=False).values_list("pk", flat=True))
    timed_out = list(enrollments.filter(event_came_at__isnull=True).values_list("pk", flat=True))
    Step.objects.filter(pk=step.pk).update(
        event_came=F("event_came") + len(came), timed_out=F("timed_out") + len(timed_out)
    )
    then, otherwise = (flow.target(steps, step, way) for way in (step.then_step, step.else_step))
    _move(Enrollment.objects.filter(pk__in=came), then, now)
    _move(Enrollment.objects.filter(pk__in=timed_out), otherwise, now, EndReason.TIMED_OUT)


def _move(
    enrollments: QuerySet,
    step: Step | None,
    now: datetime,
    ending: str = EndReason.COMPLETED,
) -> None:
    """Point the enrollments at `step`, due after its wait; with no step, end their journeys."""
    if step is None:
        enrollments.update(
            status=EnrollmentStatus.COMPLETED, next_at=None, ended_at=now, ended_reason=ending
        )
        return
    enrollments.update(next_position=step.position, next_at=now + step.wait, event_came_at=None)

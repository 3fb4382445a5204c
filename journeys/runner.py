"""Move people along their journeys: enrol what the triggers found, send the steps now due.

Each due step becomes a delivery of the step's notification, made in the same transaction that
moves its enrollment on, so a step is never made twice; the campaign workers send it, with the
app's opt-out, categories, frequency caps and quiet hours.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from campaigns import delivery
from journeys import enrollment
from journeys.models import Enrollment, EnrollmentStatus, Journey, JourneyStatus, Step, Trigger

BATCH_SIZE = 1000
SCANNED_TRIGGERS = (Trigger.FIRST_REGISTRATION, Trigger.SEGMENT_ENTRY)


def run(now: datetime | None = None) -> list[int]:
    """Scan the triggers, then send every due step; return the notifications given deliveries."""
    now = now or timezone.now()
    scanned = Journey.objects.filter(status=JourneyStatus.ACTIVE, trigger__in=SCANNED_TRIGGERS)
    for journey_id in scanned.values_list("pk", flat=True):
        enrollment.scan(journey_id, now)
    return send_due(now)


def send_due(now: datetime | None = None) -> list[int]:
    """Make the deliveries of every due step; return the notifications given deliveries."""
    now = now or timezone.now()
    touched: set[int] = set()
    while batch := advance(now):
        touched.update(batch)
    return sorted(touched)


def advance(now: datetime, size: int = BATCH_SIZE) -> list[int]:
    """Make the deliveries of up to `size` due steps and move their enrollments on.

    Returns the notifications that got deliveries; empty when nothing was due.
    """
    with transaction.atomic():
        due = Enrollment.objects.filter(
            status=EnrollmentStatus.ACTIVE, next_at__lte=now, journey__status=JourneyStatus.ACTIVE
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        rows = list(due.order_by("next_at").values_list("pk", "journey_id", "next_position")[:size])
        if not rows:
            return []
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        for pk, journey_id, position in rows:
            groups[(journey_id, position)].append(pk)
        made = [
            _take_step(journey, position, ids, now) for (journey, position), ids in groups.items()
        ]
        return [notification_id for notification_id in made if notification_id]


def _take_step(journey_id: int, position: int, ids: list[int], now: datetime) -> int:
    """Insert the step's deliveries for these enrollments and point them at the next step.

    Returns the step's notification, or 0 when the step was removed meanwhile (it is passed).
    """
    steps = list(Step.objects.filter(journey_id=journey_id, position__gte=position)[:2])
    enrollments = Enrollment.objects.filter(pk__in=ids)
    step = steps[0] if steps and steps[0].position == position else None
    if step is not None:
        delivery.insert_for_enrollments(step.notification, ids)
    after = [s for s in steps if s.position > position]
    if after:
        enrollments.update(next_position=after[0].position, next_at=now + after[0].wait)
    else:
        enrollments.update(status=EnrollmentStatus.COMPLETED, next_at=None)
    return step.notification_id if step else 0

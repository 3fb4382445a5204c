"""A journey's exits: an event, or leaving a segment, ends a person's journey at once.

Each exit is one UPDATE over the enrollments it ends, whatever their number: the event's
devices, or the enrollments whose device no longer matches the segment (NOT EXISTS over the
segment's query for the enrollment's device: in SQL, never device by device in Python). A
second UPDATE skips the deliveries already made for them that no worker has claimed yet.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet

from campaigns import delivery
from campaigns.models import Notification
from devices.models import Device, DeviceStatus
from journeys.models import EndReason, Enrollment, EnrollmentStatus, Journey, JourneyStatus
from pushcenter import isolation
from segments import services as segments

# Paused journeys keep their exits: a person who left should not get the rest on resuming.
RUNNING = (JourneyStatus.ACTIVE, JourneyStatus.PAUSED)


def exit_on_event(app_id: int, name: str, devices: QuerySet[Device], now: datetime) -> int:
    """End the journeys of these devices that this event is an exit of; return how many."""
    journeys = Journey.objects.filter(app_id=app_id, status__in=RUNNING)
    exiting = [pk for pk, names in journeys.values_list("pk", "exit_events") if name in names]
    if not exiting:
        return 0
    ending = Enrollment.objects.filter(
        journey_id__in=exiting, status=EnrollmentStatus.ACTIVE, device__in=devices
    )
    ended = ending.update(
        status=EnrollmentStatus.EXITED,
        next_at=None,
        ended_at=now,
        ended_reason=EndReason.EXIT_EVENT,
        ended_event=name,
    )
    if ended:
        _skip_unsent(exiting, EndReason.EXIT_EVENT, now, f"Left the journey on the event {name}")
    return ended


def drop_left_segment(journey: Journey, ids: list[int], now: datetime) -> list[int]:
    """End the journeys of those of `ids` who left the exit segment; return the others."""
    if journey.exit_segment_id is None or not ids:
        return ids
    _end_left_segment(journey, Enrollment.objects.filter(pk__in=ids), now)
    staying = Enrollment.objects.filter(pk__in=ids, status=EnrollmentStatus.ACTIVE)
    return list(staying.values_list("pk", flat=True))


def sweep_left_segment(now: datetime) -> None:
    """End, in each running journey with an exit segment, the journeys of those who left it.

    Each journey runs in its own error boundary: a segment that cannot be evaluated marks its
    journey, and the others run.
    """
    journeys = Journey.objects.filter(status__in=RUNNING, exit_segment__isnull=False)
    for journey in journeys.select_related("app", "exit_segment"):
        with isolation.boundary(Journey, journey.pk):
            active = journey.enrollments.filter(status=EnrollmentStatus.ACTIVE)
            _end_left_segment(journey, active, now)


def _end_left_segment(journey: Journey, enrollments: QuerySet[Enrollment], now: datetime) -> int:
    segment = journey.exit_segment
    # The enrollment's own device, checked against the segment: an index lookup each.
    member = Device.objects.filter(
        segments.any_segment(journey.app, [segment]),
        pk=OuterRef("device_id"),
        app_id=journey.app_id,
        status=DeviceStatus.ACTIVE,
    )
    leaving = enrollments.filter(status=EnrollmentStatus.ACTIVE).exclude(Exists(member))
    ended = leaving.update(
        status=EnrollmentStatus.EXITED,
        next_at=None,
        ended_at=now,
        ended_reason=EndReason.LEFT_SEGMENT,
    )
    if ended:
        reason = f"Left the journey: no longer in the segment {segment.name}"
        _skip_unsent([journey.pk], EndReason.LEFT_SEGMENT, now, reason)
    return ended


def _skip_unsent(journey_ids: list[int], why: str, now: datetime, reason: str) -> None:
    """Skip the deliveries made for those who just left but not yet sent: they get no more."""
    just_left = Enrollment.objects.filter(
        journey_id__in=journey_ids, status=EnrollmentStatus.EXITED, ended_reason=why, ended_at=now
    )
    messages = Notification.objects.filter(journey_step__journey_id__in=journey_ids)
    delivery.skip_queued_triggered(messages, just_left, reason[:300])

"""Events: what a person did, reported by the app, a backend or Segment.com.

An event is stored once per device of the people it names; it ends those devices' journeys
it is an exit of, resumes their waits for it, and enrols them in the app's active journeys
that it triggers, in that order, each a single statement over all the devices.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from devices.models import Device, DeviceStatus, MobileApp
from events.models import Event, EventSource
from journeys import enrollment, exits, flow, tasks
from journeys.models import (
    Enrollment,
    EnrollmentStatus,
    Journey,
    JourneyStatus,
    Step,
    StepKind,
    Trigger,
)
from pushcenter import sql


@dataclass(frozen=True)
class Recorded:
    """What an event did: the devices it was recorded for and the journeys it started."""

    devices: int
    enrolled: int


@transaction.atomic
def record(
    app: MobileApp,
    name: str,
    *,
    user_ids: Iterable[str] = (),
    install_ids: Iterable[str] = (),
    properties: Mapping[str, object] | None = None,
    occurred_at: datetime | None = None,
    source: str = EventSource.API,
) -> Recorded:
    """Store the event for each active device of the named users and installs; exit, resume
    and enrol them.

    Names and properties are the caller's to validate; ids matching no device are ignored.
    """
    user_ids, install_ids = list(user_ids), list(install_ids)
    if not user_ids and not install_ids:
        return Recorded(devices=0, enrolled=0)
    now = timezone.now()
    devices = Device.objects.filter(app=app, status=DeviceStatus.ACTIVE).filter(
        Q(user_id__in=user_ids) | Q(install_id__in=install_ids)
    )
    values = dict(properties or {})
    stored = _store(app, name, devices, values, occurred_at or now, source)
    journeys = Journey.objects.filter(
        app=app, status=JourneyStatus.ACTIVE, trigger=Trigger.EVENT, event_name=name
    )
    exits.exit_on_event(app.pk, name, devices, now)
    resumed = resume_waits(app, name, devices, occurred_at or now, values)
    entered = sum(enrollment.enroll(j, devices, now, values) for j in journeys)
    if entered or resumed:
        transaction.on_commit(tasks.send_due_steps.delay)
    return Recorded(devices=stored, enrolled=entered)


def resume_waits(
    app: MobileApp,
    name: str,
    devices: QuerySet[Device],
    occurred_at: datetime,
    properties: Mapping[str, object] | None = None,
) -> int:
    """Make the devices' waits for this event due now, to go the "event came" way.

    One UPDATE over the enrollments waiting at any of the app's steps that wait for it (and
    whose conditions its properties meet); the runner, which the caller wakes, moves them on.
    An event reported late counts only if it happened after the wait began (`next_at - wait`);
    one that comes before the runner took the timeout still counts. Return how many.
    """
    waits = Step.objects.filter(
        journey__app=app,
        journey__status__in=exits.RUNNING,
        kind=StepKind.WAIT_FOR_EVENT,
        event_name=name,
    ).values_list("journey_id", "position", "event_conditions", "wait")
    at_a_wait = Q(pk__in=[])
    met = False
    for journey_id, position, conditions, wait in waits:
        if flow.matches(conditions, properties or {}):
            wait_began_by_then = Q(next_at__lte=occurred_at + wait)
            at_a_wait |= Q(journey_id=journey_id, next_position=position) & wait_began_by_then
            met = True
    if not met:
        return 0
    waiting = Enrollment.objects.filter(
        at_a_wait, status=EnrollmentStatus.ACTIVE, event_came_at__isnull=True, device__in=devices
    )
    now = timezone.now()
    return waiting.update(event_came_at=now, next_at=now)


def _store(
    app: MobileApp,
    name: str,
    devices: QuerySet[Device],
    properties: dict,
    occurred_at: datetime,
    source: str,
) -> int:
    """INSERT … SELECT one event row per device; return how many were stored."""
    select, params = devices.values(device=F("pk")).query.sql_with_params()
    return sql.insert_select(
        Event,
        ("app_id", "device_id", "name", "properties", "source", "occurred_at"),
        f"SELECT %s, t.device, %s, {sql.json_placeholder()}, %s, %s FROM ({select}) AS t",  # noqa: S608
        [app.pk, name, json.dumps(properties), source, sql.moment(occurred_at), *params],
    )

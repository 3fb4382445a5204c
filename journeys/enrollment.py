"""Who enters a journey: devices found by its trigger, each enrolled with the first step due.

Enrolling is one INSERT … SELECT over the devices found, however many there are. Devices
already in are left out with NOT EXISTS, an index lookup per device: NOT IN would read every
enrollment of the journey for each event.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet

from devices.models import Device, DeviceStatus
from journeys.models import Enrollment, EnrollmentStatus, Journey, JourneyStatus, Trigger
from pushcenter import sql
from segments.services import any_segment

# A device registered or a member found just before the last look, committed late, is seen.
OVERLAP = timedelta(minutes=1)


def enroll(
    journey: Journey, devices: QuerySet[Device], now: datetime, properties: dict | None = None
) -> int:
    """Enrol the devices with the first step due after its wait; return how many entered.

    A device already going through the journey is not enrolled again meanwhile.
    """
    first = journey.steps.order_by("position").first()
    if first is None:
        return 0
    busy = Enrollment.objects.filter(
        journey=journey, status=EnrollmentStatus.ACTIVE, device_id=OuterRef("pk")
    )
    free = devices.exclude(Exists(busy))
    return _insert(
        journey, free, EnrollmentStatus.ACTIVE, first.position, now + first.wait, now, properties
    )


def scan(journey_id: int, now: datetime) -> int:
    """Enrol the devices a registration or segment trigger found since the last look."""
    with transaction.atomic():
        journey = Journey.objects.select_for_update().filter(pk=journey_id).first()
        if journey is None or journey.status != JourneyStatus.ACTIVE:
            return 0
        entered = enroll(journey, _new_arrivals(journey, now), now)
        journey.scanned_at = now
        journey.save(update_fields=["scanned_at", "updated_at"])
        return entered


def mark_present_members(journey: Journey, now: datetime) -> int:
    """Record a segment's members at activation as already in: only later arrivals enter."""
    members = _segment_members(journey, now)
    return _insert(journey, members, EnrollmentStatus.ALREADY_IN, 0, None, now)


def _insert(
    journey: Journey,
    devices: QuerySet[Device],
    status: str,
    position: int,
    next_at: datetime | None,
    now: datetime,
    properties: dict | None = None,
) -> int:
    """INSERT … SELECT one enrollment per device; one still active is left as it is."""
    select, params = devices.values(device=F("pk")).query.sql_with_params()
    values = [
        journey.pk,
        status,
        position,
        sql.moment(next_at),
        None,
        sql.moment(now),
        sql.moment(now),
        "",
        "",
    ]
    if properties is not None:
        values[4] = json.dumps(properties)
    columns = (
        "journey_id",
        "device_id",
        "status",
        "next_position",
        "next_at",
        "properties",
        "created_at",
        "updated_at",
        "ended_reason",
        "ended_event",
    )
    return sql.insert_select(
        Enrollment,
        columns,
        f"SELECT %s, t.device, %s, %s, %s, {sql.json_placeholder()}, %s, %s, %s, %s "  # noqa: S608
        f"FROM ({select}) AS t",
        [*values, *params],
        on_conflict="DO NOTHING",
    )


def _new_arrivals(journey: Journey, now: datetime) -> QuerySet[Device]:
    since = (journey.scanned_at or journey.activated_at or now) - OVERLAP
    if journey.trigger == Trigger.FIRST_REGISTRATION:
        found = Device.objects.filter(
            app=journey.app,
            status=DeviceStatus.ACTIVE,
            first_seen__gte=max(since, journey.activated_at or since),
            first_seen__lte=now,
        )
    else:
        found = _segment_members(journey, now)
    # Registration and segment journeys take each device once.
    return found.exclude(
        Exists(Enrollment.objects.filter(journey=journey, device_id=OuterRef("pk")))
    )


def _segment_members(journey: Journey, now: datetime) -> QuerySet[Device]:
    """The segment's members at `now`: a did(...) window ends then, so one can enter by time."""
    active = Device.objects.filter(app=journey.app, status=DeviceStatus.ACTIVE)
    return active.filter(any_segment(journey.app, [journey.segment], now))

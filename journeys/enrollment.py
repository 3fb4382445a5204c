"""Who enters a journey: devices found by its trigger, each enrolled with the first step due."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, QuerySet

from campaigns.audience import any_segment
from devices.models import Device, DeviceStatus
from journeys.models import Enrollment, EnrollmentStatus, Journey, JourneyStatus, Trigger

# A device registered or a member found just before the last look, committed late, is seen.
OVERLAP = timedelta(minutes=1)


def enroll(
    journey: Journey, device_ids: Iterable[int], now: datetime, properties: dict | None = None
) -> int:
    """Enrol devices with the first step due after its wait; return how many entered.

    A device already going through the journey is not enrolled again meanwhile.
    """
    first = journey.steps.order_by("position").first()
    ids = list(device_ids)
    if first is None or not ids:
        return 0
    busy = set(
        Enrollment.objects.filter(
            journey=journey, device_id__in=ids, status=EnrollmentStatus.ACTIVE
        ).values_list("device_id", flat=True)
    )
    rows = [
        Enrollment(
            journey=journey,
            device_id=device_id,
            next_position=first.position,
            next_at=now + first.wait,
            properties=properties,
            created_at=now,
        )
        for device_id in dict.fromkeys(ids)
        if device_id not in busy
    ]
    # A concurrent enrollment of the same device loses to the one-active-enrollment constraint.
    Enrollment.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)


def scan(journey_id: int, now: datetime) -> int:
    """Enrol the devices a registration or segment trigger found since the last look."""
    with transaction.atomic():
        journey = Journey.objects.select_for_update().filter(pk=journey_id).first()
        if journey is None or journey.status != JourneyStatus.ACTIVE:
            return 0
        found = _new_arrivals(journey, now)
        entered = enroll(journey, found.values_list("pk", flat=True), now)
        journey.scanned_at = now
        journey.save(update_fields=["scanned_at", "updated_at"])
        return entered


def mark_present_members(journey: Journey, now: datetime) -> int:
    """Record a segment's members at activation as already in: only later arrivals enter."""
    members = _segment_members(journey).values(device=F("pk"))
    select, params = members.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Enrollment._meta.db_table} (journey_id, device_id, status, "  # noqa: S608
            "next_position, next_at, properties, created_at, updated_at) "
            f"SELECT %s, t.device, %s, 0, NULL, NULL, %s, %s FROM ({select}) AS t",
            [journey.pk, EnrollmentStatus.ALREADY_IN, now, now, *params],
        )
        return cursor.rowcount


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
        found = _segment_members(journey)
    # Registration and segment journeys take each device once.
    return found.exclude(pk__in=Enrollment.objects.filter(journey=journey).values("device_id"))


def _segment_members(journey: Journey) -> QuerySet[Device]:
    active = Device.objects.filter(app=journey.app, status=DeviceStatus.ACTIVE)
    return active.filter(any_segment(journey.app, [journey.segment]))

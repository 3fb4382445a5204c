"""Events: what a person did, reported by the app, a backend or Segment.

An event is stored once per device of the people it names, and enrols those devices in the
app's active journeys that it triggers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from devices.models import Device, DeviceStatus, MobileApp
from journeys import enrollment, tasks
from journeys.models import Event, EventSource, Journey, JourneyStatus, Trigger


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
    """Store the event for each active device of the named users and installs; enrol them.

    Names and properties are the caller's to validate; ids matching no device are ignored.
    """
    now = timezone.now()
    devices = Device.objects.filter(app=app, status=DeviceStatus.ACTIVE).filter(
        Q(user_id__in=list(user_ids)) | Q(install_id__in=list(install_ids))
    )
    device_ids = list(devices.values_list("pk", flat=True))
    values = dict(properties or {})
    Event.objects.bulk_create(
        [
            Event(
                app=app,
                device_id=device_id,
                name=name,
                properties=values,
                source=source,
                occurred_at=occurred_at or now,
            )
            for device_id in device_ids
        ],
        batch_size=1000,
    )
    journeys = Journey.objects.filter(
        app=app, status=JourneyStatus.ACTIVE, trigger=Trigger.EVENT, event_name=name
    )
    entered = sum(enrollment.enroll(j, device_ids, now, values) for j in journeys)
    if entered:
        transaction.on_commit(tasks.run_journeys.delay)
    return Recorded(devices=len(device_ids), enrolled=entered)

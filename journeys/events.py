"""Events: what a person did, reported by the app, a backend or Segment.com.

An event is stored once per device of the people it names, and enrols those devices in the
app's active journeys that it triggers.
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
from journeys import enrollment, tasks
from journeys.models import Journey, JourneyStatus, Trigger
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
    """Store the event for each active device of the named users and installs; enrol them.

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
    entered = sum(enrollment.enroll(j, devices, now, values) for j in journeys)
    if entered:
        transaction.on_commit(tasks.send_due_steps.delay)
    return Recorded(devices=stored, enrolled=entered)


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

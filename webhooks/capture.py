"""Keep the delivery events an app's endpoints want: the listener webhooks registers with
devices.delivery_events (see apps.py).

Which kinds an app's endpoints want is asked on every sending batch, so it is cached (the
cache is dropped whenever an endpoint changes). A sending batch's answers become events in one
INSERT … SELECT over its deliveries, their devices and the app's endpoints; each event's id is
its kind and what it is about, so announcing the same moment twice keeps it once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.core.cache import cache
from django.db import connection

from campaigns.models import Delivery, DeliveryStatus
from devices import delivery_events
from devices.delivery_events import FAILED, OPTED_OUT, SENT, DeliveryEvent
from devices.models import Device, DeviceStatus
from pushcenter import sql
from webhooks.models import Endpoint, Event

WANTED_SECONDS = 300
# A final answer that is a failure; a device retired by it also opted out.
FAILED_STATUSES = (DeliveryStatus.FAILED, DeliveryStatus.CHANNEL_EXPIRED)
RETIRED_STATUSES = (DeviceStatus.TOKEN_INVALID, DeviceStatus.CHANNEL_EXPIRED)


def _cache_key(app_id: int) -> str:
    return f"webhooks:wanted:{app_id}"


def wanted(app_id: int) -> frozenset[str]:
    """Return the kinds the app's receiving endpoints want (cached)."""
    kinds = cache.get(_cache_key(app_id))
    if kinds is None:
        kinds = sorted({kind for endpoint in receiving(app_id) for kind in endpoint.kinds})
        cache.set(_cache_key(app_id), kinds, WANTED_SECONDS)
    return frozenset(kinds)


def forget_wanted(app_id: int) -> None:
    """Drop the cached kinds of the app, after one of its endpoints changed."""
    cache.delete(_cache_key(app_id))


def receiving(app_id: int) -> list[Endpoint]:
    return list(Endpoint.objects.filter(app_id=app_id, enabled=True, paused_at__isnull=True))


def receive(events: Sequence[DeliveryEvent]) -> None:
    """Keep each event once for every receiving endpoint of its app that wants its kind."""
    by_app: dict[int, list[Endpoint]] = defaultdict(list)
    for app_id in {event.app_id for event in events}:
        by_app[app_id] = receiving(app_id)
    device_ids = {event.device_id for event in events if event.device_id}
    devices = {
        row["pk"]: row
        for row in Device.objects.filter(pk__in=device_ids).values("pk", "install_id", "user_id")
    }
    rows = [
        _row(endpoint, event, devices.get(event.device_id, {}))
        for event in events
        for endpoint in by_app[event.app_id]
        if event.kind in endpoint.kinds
    ]
    Event.objects.bulk_create(rows, ignore_conflicts=True)


def _row(endpoint: Endpoint, event: DeliveryEvent, device: dict) -> Event:
    return Event(
        endpoint=endpoint,
        event_id=f"{event.kind}-{event.key}",
        kind=event.kind,
        notification_id=event.notification_id,
        delivery_id=event.delivery_id,
        install_id=device.get("install_id"),
        user_id=device.get("user_id"),
        occurred_at=event.occurred_at,
        data=event.data or None,
    )


def receive_answers(app_id: int, delivery_ids: Sequence[int], since: datetime) -> None:
    """Keep the events of a sending batch's final answers: one INSERT … SELECT."""
    if not delivery_ids:
        return
    ids_condition, ids_params = _ids_condition(delivery_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            _answers_statement(ids_condition),
            [app_id, sql.moment(since), *ids_params, sql.moment(since)],
        )


def _ids_condition(ids: Sequence[int]) -> tuple[str, list]:
    if connection.vendor == "postgresql":
        return "d.id = ANY(%s)", [list(ids)]
    return f"d.id IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _quoted(values: Sequence[str]) -> str:
    """Our own constants as SQL literals (no outside value ever reaches this)."""
    return ", ".join(f"'{value}'" for value in values)


def _answers_statement(ids_condition: str) -> str:
    """The INSERT … SELECT: each delivery of the batch, joined with the endpoints of the app
    and the kinds each wants; a failure that retired its device in this batch is an opt-out too.

    Its parameters: the app, the batch's start, the ids, the batch's start.
    """
    q = connection.ops.quote_name
    event, delivery = q(Event._meta.db_table), q(Delivery._meta.db_table)
    device, endpoint = q(Device._meta.db_table), q(Endpoint._meta.db_table)
    sent = _quoted([DeliveryStatus.SENT.value])
    failed = _quoted([status.value for status in FAILED_STATUSES])
    retired = _quoted([status.value for status in RETIRED_STATUSES])
    kinds = " UNION ALL ".join(f"SELECT '{kind}' AS kind" for kind in (SENT, FAILED, OPTED_OUT))
    wanted_answer = (
        f"(k.kind = '{SENT}' AND e.wants_sent AND d.status IN ({sent})) "
        f"OR (k.kind = '{FAILED}' AND e.wants_failed AND d.status IN ({failed})) "
        f"OR (k.kind = '{OPTED_OUT}' AND e.wants_opted_out AND d.status IN ({failed}) "
        f"AND v.status IN ({retired}) AND v.retired_at >= %s)"
    )
    return (
        f"INSERT INTO {event} (endpoint_id, event_id, kind, notification_id, delivery_id, "  # noqa: S608
        "install_id, user_id, occurred_at, reason, data) "
        "SELECT e.id, k.kind || '-' || CAST(d.id AS VARCHAR(20)), k.kind, d.notification_id, "
        "d.id, v.install_id, v.user_id, d.updated_at, "
        f"CASE WHEN k.kind = '{SENT}' THEN '' ELSE d.reason END, NULL "
        f"FROM {delivery} d JOIN {device} v ON v.id = d.device_id "
        f"JOIN {endpoint} e ON e.app_id = %s AND e.enabled AND e.paused_at IS NULL "
        f"JOIN ({kinds}) k ON {wanted_answer} "
        f"WHERE {ids_condition} AND d.updated_at >= %s "
        "ON CONFLICT (endpoint_id, event_id) DO NOTHING"
    )


class Listener:
    """What webhooks registers with devices.delivery_events."""

    wanted = staticmethod(wanted)
    receive = staticmethod(receive)
    receive_answers = staticmethod(receive_answers)


def register() -> None:
    delivery_events.register_listener(Listener())

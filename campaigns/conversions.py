"""Conversions: a delivery's person doing the notification's goal event within its window.

A periodic task (`campaigns.count_conversions`) reads each app's events newer than the app's
mark, at most MAX_EVENTS a run and only those a run old (see count()), and inserts in one
statement the conversions they make: for each event of a notification's goal, the deliveries
of that notification to the event's device whose window (from the sending, or from the launch)
holds the event's time. A person converts once per notification (per occurrence, for a journey
step's repeated sends), on their first such event; an event reported late still counts if its
time is inside the window.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from campaigns.models import Conversion, ConversionMark, ConversionStart, Delivery, Notification
from devices import delivery_events
from events.models import Event
from pushcenter import sql

# Events read for one app in one run: a run's cost is bounded, the backlog waits for the next.
MAX_EVENTS = 10_000


def apps_with_goals() -> list[int]:
    """List the apps with a notification that names a conversion event."""
    goals = Notification.objects.exclude(conversion_event="")
    return sorted(set(goals.values_list("app_id", flat=True)))


def mark_from_now(app_id: int) -> None:
    """Have the app's first goal count the events reported from now on, not its whole history.

    Called when a notification with a goal is saved: an app that has reported millions of
    events before its first goal would otherwise have them all read, MAX_EVENTS a run.
    """
    newest = Event.objects.aggregate(newest=Max("id"))["newest"] or 0
    ConversionMark.objects.get_or_create(
        app_id=app_id, defaults={"event_id": newest, "settled_id": newest}
    )


@transaction.atomic
def count(app_id: int, limit: int = MAX_EVENTS) -> list[int]:
    """Insert the conversions the app's next `limit` settled events make; return their ids.

    An event is read one run after its id was first seen as the newest: ids are taken in one
    order and committed in another, so an id below the newest may still be uncommitted when the
    newest is seen, but not a whole run later. Conversions are counted a run late, and no event
    is passed over.
    """
    ConversionMark.objects.get_or_create(app_id=app_id)
    # Two runs at once (Beat firing twice) take turns on the app's mark.
    mark = ConversionMark.objects.select_for_update().get(app_id=app_id)
    upper = _upper_bound(app_id, mark.event_id, mark.settled_id, limit)
    inserted = insert(app_id, mark.event_id, upper) if upper is not None else []
    if inserted and delivery_events.CONVERTED in delivery_events.wanted(app_id):
        delivery_events.announce(_announced(app_id, inserted))
    mark.event_id = upper or mark.event_id
    if mark.event_id == mark.settled_id:  # all settled ids are read: the newest now settles
        mark.settled_id = Event.objects.aggregate(newest=Max("id"))["newest"] or 0
    mark.save(update_fields=["event_id", "settled_id"])
    return inserted


def _announced(app_id: int, ids: list[int]) -> list[delivery_events.DeliveryEvent]:
    """The new conversions as delivery events: the goal's event and the summed value."""
    rows = sql.with_ids(Conversion.objects.all(), ids).values_list(
        "id",
        "notification_id",
        "delivery_id",
        "delivery__device_id",
        "converted_at",
        "value",
        "notification__conversion_event",
    )
    return [
        delivery_events.DeliveryEvent(
            delivery_events.CONVERTED,
            app_id,
            key=str(pk),
            occurred_at=converted_at,
            notification_id=notification_id,
            delivery_id=delivery_id,
            device_id=device_id,
            data={"event": event, "value": None if value is None else float(value)},
        )
        for pk, notification_id, delivery_id, device_id, converted_at, value, event in rows
    ]


def _upper_bound(app_id: int, after: int, settled: int, limit: int) -> int | None:
    """The id this run reads up to: the app's `limit`-th settled event, or all settled ids."""
    newer = Event.objects.filter(app_id=app_id, id__gt=after, id__lte=settled).order_by("id")
    last = newer.values_list("id", flat=True)[limit - 1 : limit].first()
    return last or (settled if settled > after else None)


def insert(app_id: int, after: int, upper: int) -> list[int]:
    """Insert the conversions of the app's events with ids in (after, upper]; return their ids.

    The one place conversions are made: whoever must hear of new conversions starts here.
    """
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(name)
        for name in (
            "delivery_id",
            "notification_id",
            "person",
            "occurrence",
            "event_id",
            "converted_at",
            "value",
            "recorded_at",
        )
    )
    # The new goal events and their devices' deliveries are read first, from the events' id
    # range, so the planner starts from the few new events rather than from deliveries.
    statement = (
        f"WITH pairs AS MATERIALIZED ({_new_goal_events_and_deliveries()}) "  # noqa: S608
        f"INSERT INTO {quote(Conversion._meta.db_table)} ({columns}) "
        f"SELECT r.delivery_id, r.notification_id, r.person, r.occurrence, r.event_id, "
        f"r.converted_at, r.value, %s FROM ({_candidates()}) AS r WHERE r.rank = 1 "
        f"ON CONFLICT DO NOTHING RETURNING id"
    )
    params = [app_id, after, upper, app_id, sql.moment(timezone.now())]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [row[0] for row in cursor.fetchall()]


def _new_goal_events_and_deliveries() -> str:
    """SELECT each of the app's events in the id range whose name is a goal, with its person,
    once per delivery its device got.

    The person is the device's user id, or "#" and the device's id when it has none. Only
    table and column names from the models enter it; values are parameters.
    """
    event, notification = Event._meta.db_table, Notification._meta.db_table
    delivery = Delivery._meta.db_table
    device = Event._meta.get_field("device").related_model._meta.db_table
    person = "CASE WHEN v.user_id <> '' THEN v.user_id ELSE '#' || CAST(v.id AS TEXT) END"
    return (
        f"SELECT e.id AS event_id, e.name, e.properties, e.occurred_at, {person} AS person, "  # noqa: S608
        f"d.id AS delivery_id, d.notification_id, d.trigger_key, d.sent_at, d.launched_at "
        f"FROM {event} e JOIN {device} v ON v.id = e.device_id "
        f"JOIN {delivery} d ON d.device_id = e.device_id "
        f"WHERE e.app_id = %s AND e.id > %s AND e.id <= %s AND e.name IN "
        f"(SELECT conversion_event FROM {notification} WHERE app_id = %s)"
    )


def _candidates() -> str:
    """SELECT each (new event, delivery) pair that converts, ranked first event first per
    person and occurrence."""
    notification = Notification._meta.db_table
    launched = ConversionStart.LAUNCHED.value
    start = f"CASE n.conversion_starts WHEN '{launched}' THEN p.launched_at ELSE p.sent_at END"
    occurrence = "COALESCE(p.trigger_key, 0)"
    return (
        f"SELECT p.delivery_id, p.notification_id, p.person, "  # noqa: S608
        f"{occurrence} AS occurrence, p.event_id, p.occurred_at AS converted_at, "
        f"{_value()} AS value, ROW_NUMBER() OVER (PARTITION BY p.notification_id, "
        f"{occurrence}, p.person ORDER BY p.occurred_at, p.event_id, p.delivery_id) AS rank "
        f"FROM pairs p "
        f"JOIN {notification} n ON n.id = p.notification_id AND n.conversion_event = p.name "
        f"WHERE p.occurred_at <= {_window_end(start)} AND p.occurred_at >= {start}"
    )


def _window_end(start: str) -> str:
    """SQL for the end of the window that opens at `start`: the end is inside it."""
    if connection.vendor == "postgresql":
        return f"({start}) + n.conversion_window_minutes * INTERVAL '1 minute'"
    # SQLite keeps times as text, "YYYY-MM-DD HH:MM:SS[.ffffff]"; this writes the end so that
    # text comparison orders it among them.
    return (
        f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', {start}, "
        f"'+' || n.conversion_window_minutes || ' minutes')"
    )


# A value must fit Conversion.value (18 digits, 4 after the point) once rounded.
VALUE_LIMIT = "99999999999999"


def _value() -> str:
    """SQL for the event's number under the notification's value property, or NULL.

    Nested CASEs, since SQL does not promise to evaluate AND's operands in order: the cast runs
    only on a number.
    """
    if connection.vendor == "postgresql":
        found = "p.properties -> n.conversion_value_property"
        number = "(p.properties ->> n.conversion_value_property)::numeric"
        is_number = f"n.conversion_value_property <> '' AND jsonb_typeof({found}) = 'number'"
    else:
        path = "'$.\"' || n.conversion_value_property || '\"'"
        number = f"json_extract(p.properties, {path})"
        is_number = (
            f"n.conversion_value_property <> '' "
            f"AND json_type(p.properties, {path}) IN ('integer', 'real')"
        )
    return (
        f"CASE WHEN {is_number} THEN "
        f"CASE WHEN abs({number}) < {VALUE_LIMIT} THEN round({number}, 4) END END"
    )

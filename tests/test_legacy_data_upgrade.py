"""A database made before the concepts moved keeps its data when it upgrades.

Sending rules were columns of devices_mobileapp (devices/0007, 0008), the Segment.com secret
too (devices/0010), and events lived in journeys_event (journeys/0001). A new database never
makes those; an older one has them made here by the operations those migrations ran, then the
moving migrations' functions run and the data is found in its new home, the old places gone.
"""

from __future__ import annotations

import datetime
import importlib

import django.db.models.deletion
import pytest
from django.db import connection, migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState
from django.utils import timezone

from campaigns.models import IdempotencyKey, Kind, Notification, QuietHoursAction, SendingRules
from devices import encryption
from events.models import Event, EventSource
from journeys.models import SegmentComSource
from tests.test_events_api import phone

pytestmark = pytest.mark.django_db(transaction=True)

# What devices/0007 and 0008 added to the app, as they added it.
FREQUENCY_CAPS = [
    migrations.AddField("mobileapp", "daily_maximum", models.PositiveIntegerField(null=True)),
    migrations.AddField(
        "mobileapp", "min_interval_minutes", models.PositiveIntegerField(default=30)
    ),
]
QUIET_HOURS = [
    migrations.AddField(
        "mobileapp", "default_time_zone", models.CharField(default="UTC", max_length=64)
    ),
    migrations.AddField(
        "mobileapp", "quiet_hours_action", models.CharField(default="defer", max_length=5)
    ),
    migrations.AddField("mobileapp", "quiet_hours_end", models.TimeField(null=True)),
    migrations.AddField("mobileapp", "quiet_hours_start", models.TimeField(null=True)),
]
# What devices/0010 added.
SEGMENT_COM_SECRET = [
    migrations.AddField("mobileapp", "encrypted_segment_secret", models.TextField(blank=True)),
    migrations.AddField("mobileapp", "segment_secret_set_at", models.DateTimeField(null=True)),
]
# What journeys/0001 made for events, indexes and all.
JOURNEYS_EVENT = migrations.CreateModel(
    name="Event",
    fields=[
        ("id", models.BigAutoField(primary_key=True, serialize=False)),
        ("name", models.CharField(max_length=128)),
        ("properties", models.JSONField(blank=True, default=dict)),
        ("source", models.CharField(default="api", max_length=8)),
        ("occurred_at", models.DateTimeField()),
        (
            "app",
            models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="devices.mobileapp",
            ),
        ),
        (
            "device",
            models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="devices.device"
            ),
        ),
    ],
    options={
        "indexes": [
            models.Index(fields=["app", "name", "occurred_at"], name="event_name_time"),
            models.Index(fields=["device", "name"], name="event_device"),
        ]
    },
)


def legacy(app_label: str, operations: list) -> ProjectState:
    """Run the legacy operations on the database; return the state they leave."""
    state = MigrationLoader(connection).project_state()
    for operation in operations:
        after = state.clone()
        operation.state_forwards(app_label, after)
        with connection.schema_editor() as editor:
            operation.database_forwards(app_label, editor, state, after)
        state = after
    return state


def migrate_with(module: str, function: str, state: ProjectState) -> None:
    """Run one migration's data function, as `migrate` would."""
    move = getattr(importlib.import_module(module), function)
    with connection.schema_editor() as editor:
        move(state.apps, editor)


def app_columns() -> set[str]:
    with connection.cursor() as cursor:
        return {
            c.name
            for c in connection.introspection.get_table_description(cursor, "devices_mobileapp")
        }


def tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def test_a_new_database_never_has_the_legacy_columns_or_table(retail):
    legacy_columns = {op.name for op in FREQUENCY_CAPS + QUIET_HOURS + SEGMENT_COM_SECRET}
    assert not legacy_columns & app_columns()
    assert "journeys_event" not in tables()
    state = MigrationLoader(connection).project_state()
    migrate_with("campaigns.migrations.0011_sending_rules", "move_legacy_rules", state)
    migrate_with("journeys.migrations.0003_segment_com_source", "move_legacy_secrets", state)
    migrate_with("journeys.migrations.0004_events_moved", "move_legacy_events", state)
    assert not SendingRules.objects.exists() and not SegmentComSource.objects.exists()


def test_each_apps_sending_rules_move_to_campaigns_and_the_columns_go(retail, news):
    state = legacy("devices", FREQUENCY_CAPS + QUIET_HOURS)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE devices_mobileapp SET min_interval_minutes = 5, daily_maximum = 3, "
            "default_time_zone = 'Europe/Paris', quiet_hours_start = '22:00:00', "
            "quiet_hours_end = '08:00:00', quiet_hours_action = 'skip' WHERE id = %s",
            [retail.pk],
        )

    migrate_with("campaigns.migrations.0011_sending_rules", "move_legacy_rules", state)

    rules = SendingRules.objects.get(app=retail)
    assert (rules.min_interval_minutes, rules.daily_maximum) == (5, 3)
    assert (rules.default_time_zone, rules.quiet_hours_action) == ("Europe/Paris", "skip")
    assert (rules.quiet_hours_start, rules.quiet_hours_end) == (
        datetime.time(22, 0),
        datetime.time(8, 0),
    )
    kept = SendingRules.objects.get(app=news)
    assert (kept.min_interval_minutes, kept.daily_maximum, kept.default_time_zone) == (
        30,
        None,
        "UTC",
    )
    assert not {op.name for op in FREQUENCY_CAPS + QUIET_HOURS} & app_columns()


def test_caps_made_before_quiet_hours_existed_move_and_the_rest_take_their_defaults(retail):
    state = legacy("devices", FREQUENCY_CAPS)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE devices_mobileapp SET min_interval_minutes = 0")

    migrate_with("campaigns.migrations.0011_sending_rules", "move_legacy_rules", state)

    rules = SendingRules.objects.get(app=retail)
    assert (rules.min_interval_minutes, rules.default_time_zone) == (0, "UTC")
    assert rules.quiet_hours_action == QuietHoursAction.DEFER
    assert not {op.name for op in FREQUENCY_CAPS} & app_columns()


def test_a_stored_segment_com_secret_moves_to_journeys_still_encrypted(retail, news):
    state = legacy("devices", SEGMENT_COM_SECRET)
    set_at = timezone.now().replace(microsecond=0)
    ciphertext = encryption.encrypt("segment-shared-secret-0123456789")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE devices_mobileapp SET encrypted_segment_secret = %s, "
            "segment_secret_set_at = %s WHERE id = %s",
            [ciphertext, set_at, retail.pk],
        )

    migrate_with("journeys.migrations.0003_segment_com_source", "move_legacy_secrets", state)

    source = SegmentComSource.objects.get(app=retail)
    assert source.encrypted_secret == ciphertext and source.secret_set_at == set_at
    assert source.read_secret() == "segment-shared-secret-0123456789"
    assert not SegmentComSource.objects.filter(app=news).exists()
    assert not {op.name for op in SEGMENT_COM_SECRET} & app_columns()


def test_journeys_events_move_to_the_events_app_ids_and_all(retail):
    state = legacy("journeys", [JOURNEYS_EVENT])
    device = phone(retail, "ada")
    legacy_event = state.apps.get_model("journeys", "Event")
    at = timezone.now().replace(microsecond=0)
    for number, source in ((7, "api"), (9, "segment")):
        legacy_event.objects.create(
            id=number,
            app_id=retail.pk,
            device_id=device.pk,
            name="product_on_sale",
            properties={"product": "Red shoes", "n": number},
            source=source,
            occurred_at=at,
        )

    migrate_with("journeys.migrations.0004_events_moved", "move_legacy_events", state)

    moved = list(Event.objects.order_by("id").values_list("id", "source", "properties"))
    assert moved == [
        (7, EventSource.API, {"product": "Red shoes", "n": 7}),
        (9, EventSource.SEGMENT_COM, {"product": "Red shoes", "n": 9}),
    ]
    assert Event.objects.get(id=9).occurred_at == at
    assert "journeys_event" not in tables()
    later = Event.objects.create(app=retail, device=device, name="later", occurred_at=at)
    assert later.id > 9


def test_notifications_an_idempotent_api_request_made_become_transactional(retail):
    made_by_api, composed = (
        Notification.objects.create(app=retail, name=name) for name in ("API", "Dashboard")
    )
    IdempotencyKey.objects.create(
        app=retail, key="k1", body_hash="0" * 64, notification=made_by_api
    )
    state = MigrationLoader(connection).project_state()

    migrate_with(
        "campaigns.migrations.0012_notification_kind", "api_sends_are_transactional", state
    )

    kinds = dict(Notification.objects.values_list("name", "kind"))
    assert kinds == {"API": Kind.TRANSACTIONAL, "Dashboard": Kind.MARKETING}

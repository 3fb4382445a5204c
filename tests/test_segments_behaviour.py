"""Audiences built from behaviour: did(...) counts what each device's person did, by event.

Events are recorded as the events API records them (journeys.events.record); counts are read
through the segment page's preview and the audiences API, and a journey's scan sees a device
enter a behaviour segment as time passes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from devices.models import Device
from devices.registration import register_device
from events.models import Event
from journeys import events, runner, services
from journeys.models import Enrollment, EnrollmentStatus, Journey, Trigger
from segments.language import DefinitionError, compile_definition
from segments.models import Segment
from tests.conftest import logged_in
from tests.test_audiences_api import audience_url
from tests.test_device_api import api

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
PREVIEW = "/segments/segment/preview/"


def person(app, user_id: str, country: str = "US") -> Device:
    token = "ab" + uuid.uuid4().hex * 2
    registration = {
        "platform": "ios",
        "push_token": token,
        "user_id": user_id,
        "properties": {"carrierCountry": country},
    }
    return register_device(app, uuid.uuid4(), registration)[0]


def did(app, user_id: str, name: str, days_ago: float, **properties: object) -> None:
    moment = NOW - timedelta(days=days_ago)
    events.record(app, name, user_ids=[user_id], properties=properties, occurred_at=moment)


def members(app, definition: str, now: datetime = NOW) -> set[str]:
    condition = compile_definition(definition, {}, now=now)
    devices = Device.objects.filter(app=app).filter(condition)
    return set(devices.values_list("user_id", flat=True))


@pytest.fixture
def shoppers(retail, news):
    for user_id, country in [("ada", "US"), ("bo", "US"), ("cy", "FR"), ("di", "US")]:
        person(retail, user_id, country)
    did(retail, "ada", "purchase", 2, amount=25, currency="EUR")
    did(retail, "ada", "purchase", 20, amount=5, currency="EUR")
    did(retail, "ada", "app_open", 1)
    did(retail, "bo", "purchase", 45, amount=80, currency="EUR")
    did(retail, "bo", "app_open", 10)
    did(retail, "cy", "purchase", 3, amount=30, currency="USD")
    did(retail, "cy", "purchase", 4, amount="40", currency="EUR")
    did(retail, "cy", "app_open", 6.9)
    # di's purchases were reported by another app: they are not the retail app's behaviour.
    person(news, "di")
    did(news, "di", "purchase", 1)
    return retail


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ("did('purchase', within 30d)", {"ada", "cy"}),
        ("did('purchase', within 30d, count ge 2)", {"ada", "cy"}),
        ("did('purchase', within 7d, count >= 2)", {"cy"}),
        ("did('purchase', within 90d, count eq 1)", {"bo"}),
        ("did('purchase', within 30d, count lt 2)", {"bo", "di"}),
        ("not did('app_open', within 7d)", {"bo", "di"}),
        ("did('purchase', within 30d, where amount ge 20 and currency eq 'EUR')", {"ada"}),
        ("did('purchase', within 30d, where amount ge 20)", {"ada", "cy"}),
        ("did('purchase', within 30d, where amount eq '40')", {"cy"}),
        ("did('purchase', within 60d) and carrierCountry eq 'US'", {"ada", "bo"}),
        ("did('purchase', within 48h) or did('app_open', within 1440m)", {"ada"}),
        ("did('Purchase', within 365d)", set()),
    ],
)
def test_did_counts_the_apps_events_in_the_window_up_to_now(shoppers, definition, expected):
    assert members(shoppers, definition) == expected


def test_membership_follows_the_window_as_time_passes(shoppers):
    lapsed = "not did('app_open', within 7d)"

    assert members(shoppers, lapsed) == {"bo", "di"}
    assert members(shoppers, lapsed, NOW + timedelta(hours=3)) == {"bo", "cy", "di"}
    assert members(shoppers, lapsed, NOW - timedelta(days=5)) == {"ada", "di"}


@pytest.mark.parametrize(
    ("definition", "at", "rule"),
    [
        ("did('purchase')", ")", "did(...) needs a window: add , within 30d (at most 365d)"),
        ("did('purchase', within 366d)", "366d", "a window from 1m to 365d such as 30d"),
        ("did('purchase', within 0d)", "0d", "a window from 1m to 365d"),
        ("did('purchase', within 2w)", "2w", "a window from 1m to 365d"),
        ("did(purchase, within 1d)", "purchase", "an event name of 1 to 128 characters in quotes"),
        (f"did('{'e' * 129}', within 1d)", "'e", "an event name of 1 to 128 characters"),
        (
            "did('a', within 1d, count ge 10001)",
            "10001",
            "a whole number of events from 0 to 10,000",
        ),
        ("did('a', within 1d, count ge -1)", "-1", "a whole number of events"),
        ("did('a', within 1d, count in (1))", "in", "expected a comparison operator (eq, ne"),
        ("did('a', within 1d, within 2d)", "within 2d", "did(...) takes one within clause"),
        ("did('a', within 1d, since 2d)", "since", "expected within, count or where"),
        ("did('a' within 1d)", "within", "expected , or ) to close did("),
        ("did('a', within 1d, where x gt now-1d)", "now-1d", "an event property compares with"),
        ("did('a', within 1d, where x in ('a', 2))", "2)", "x is a string property"),
        ("did('a', within 1d, where x startswith 2)", "startswith", "x is a number property"),
        (
            "did('a', within 1d, where did('b', within 1d))",
            "did('b'",
            "did(...) cannot stand inside another did(...)'s where",
        ),
        (" or ".join(["did('a', within 1d)"] * 11), "did", "a definition holds at most 10 did"),
    ],
)
def test_a_bad_did_names_the_rule_and_where_it_broke(definition, at, rule):
    column = definition.rindex(at) + 1

    with pytest.raises(DefinitionError) as raised:
        compile_definition(definition, {}, now=NOW)

    assert str(raised.value).startswith(f"line 1, column {column}: "), str(raised.value)
    assert rule in str(raised.value)


def test_did_is_still_a_property_name_when_no_parenthesis_follows(retail):
    device = person(retail, "ada")
    Device.objects.filter(pk=device.pk).update(custom_properties={"did": "yes"})

    condition = compile_definition("did eq 'yes'", {"did": "string"}, now=NOW)

    assert list(Device.objects.filter(condition).values_list("user_id", flat=True)) == ["ada"]


def test_the_segment_page_counts_a_behaviour_definition(bob, retail):
    for user_id, country, purchases in [("ada", "US", 2), ("bo", "US", 1), ("cy", "FR", 2)]:
        person(retail, user_id, country)
        for _ in range(purchases):
            events.record(retail, "purchase", user_ids=[user_id])
    definition = "did('purchase', within 30d, count ge 2) and carrierCountry eq 'US'"

    result = logged_in(bob).post(PREVIEW, {"app": retail.pk, "definition": definition}).json()

    assert result["error"] is None
    assert (result["count"], [row["user_id"] for row in result["sample"]]) == (1, ["ada"])


def test_the_segment_page_points_at_a_bad_window(bob, retail):
    definition = "did('purchase', within 400d)"

    result = logged_in(bob).post(PREVIEW, {"app": retail.pk, "definition": definition}).json()

    assert (result["error"]["line"], result["error"]["column"]) == (1, 24)
    assert result["error"]["found"] == "'400d'"


def test_the_audiences_api_stores_and_counts_a_behaviour_audience(retail, retail_token):
    person(retail, "ada")
    person(retail, "bo")
    events.record(retail, "purchase", user_ids=["ada"], properties={"amount": 25})
    body = {"definition": "did('purchase', within 30d, where amount ge 20)"}

    response = api(retail_token).put(audience_url(retail, "buyers"), body, "json")

    assert response.status_code == 201, response.json()
    assert response.json()["estimated_count"] == 1
    read = api(retail_token).get(audience_url(retail, "buyers")).json()
    assert (read["definition"], read["estimated_count"]) == (body["definition"], 1)


def test_the_audiences_api_refuses_a_bad_did_naming_the_field(retail, retail_token):
    body = {"definition": "did('purchase', within 30d, count ge many)"}

    response = api(retail_token).put(audience_url(retail, "buyers"), body, "json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "definition"
    assert "line 1, column 38: expected a whole number of events" in error["message"]
    assert not Segment.objects.exists()


def test_a_journey_takes_a_device_when_its_window_lets_it_into_the_segment(retail):
    lapsed = Segment.objects.create(
        app=retail, name="Lapsed", definition="not did('app_open', within 7d)"
    )
    journey = Journey.objects.create(
        app=retail, name="Come back", trigger=Trigger.SEGMENT_ENTRY, segment=lapsed
    )
    step = services.add_step(journey).notification
    step.platforms, step.title_en, step.body_en = ["ios"], "We miss you", "Come back"
    step.save()
    person(retail, "ada")
    events.record(retail, "app_open", user_ids=["ada"])
    services.activate(journey)
    assert not Enrollment.objects.filter(journey=journey).exists()

    runner.run(timezone.now() + timedelta(days=6))
    assert not Enrollment.objects.filter(journey=journey).exists()
    runner.run(timezone.now() + timedelta(days=7, minutes=1))

    entered = Enrollment.objects.get(journey=journey)
    assert entered.device.user_id == "ada" and entered.status != EnrollmentStatus.ALREADY_IN


def test_a_counted_did_still_selects_the_right_devices_inside_a_subquery(shoppers):
    condition = compile_definition("did('purchase', within 30d, count ge 2)", {}, now=NOW)
    buyers = Device.objects.filter(app=shoppers).filter(condition)

    opens = Event.objects.filter(name="app_open", device__in=buyers)

    opened = set(opens.values_list("device_id", flat=True))
    assert opened == set(
        Device.objects.filter(user_id__in=["ada", "cy"]).values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_an_apps_devices_are_read_from_one_index_kept_visible_by_frequent_vacuums():
    """did(...) joins events to devices by id: (app, status, id) answers an audience's devices
    without their rows, where PostgreSQL's visibility map lets it, and migration devices/0016
    has autovacuum keep that map (and the planner's statistics) current after 2 % of changes."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "devices_device")
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'devices_device'")
            options = cursor.fetchone()[0]
    assert constraints["device_app_status_id"]["columns"] == ["app_id", "status", "id"]
    # The app's own index would only repeat the first column of the ones that start with it.
    assert not [
        name
        for name, found in constraints.items()
        if found["index"] and found["columns"] == ["app_id"]
    ]
    if connection.vendor == "postgresql":
        assert sorted(options) == [
            "autovacuum_analyze_scale_factor=0.02",
            "autovacuum_vacuum_insert_scale_factor=0.02",
            "autovacuum_vacuum_scale_factor=0.02",
        ]

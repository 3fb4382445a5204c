"""Registration's hand-written paths agree with the serializers they stand in for.

The API validates plain bodies without the serializer (serializers.plain_registration) and hands
everything else to it. Whatever the body, the plain check may only vouch for one the serializer
accepts, with the same data; it vouches for none of the invalid bodies. A device is shown by
device_json, written out, exactly as DeviceSerializer shows it.
"""

from __future__ import annotations

import uuid
import zoneinfo
from types import SimpleNamespace

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.models import DeviceStatus
from devices.registration import register_device, unregister_device
from devices.serializers import (
    DeviceRegistrationSerializer,
    DeviceSerializer,
    device_json,
    plain_registration,
)
from tests.test_device_api import APNS_TOKEN, CHANNEL, FCM_TOKEN, SEED_BODY
from tests.test_device_validation import INVALID

TYPES = {"dog-lover": "boolean", "dog-breed": "string", "score": "number", "born": "datetime"}

# Values each field may take in a generated body: good ones, bad ones and edge cases.
TEXT_EDGES = ["", " ", "x", " x", "x ", "x\n", "\x00", "\ud800", "é", "x" * 64, "x" * 65, None, 3]
VALUES = {
    "platform": ["ios", "android", "windows", "IOS", "", None, 1, ["ios"]],
    "push_token": [APNS_TOKEN, APNS_TOKEN.upper(), FCM_TOKEN, "a" * 63, "a" * 1025, *TEXT_EDGES],
    "channel_uri": [CHANNEL, "http://db5.notify.windows.com/", CHANNEL + " ", *TEXT_EDGES],
    "user_id": ["crm-42", "u" * 256, "u" * 257, *TEXT_EDGES],
    "account_id": ["family-7", *TEXT_EDGES],
    "locale": ["en-US", "EN-us", "zh-hant-tw", "english", "en_US", "en-US\n", *TEXT_EDGES],
    "time_zone": ["Europe/Paris", "europe/paris", "UTC", "Mars/Base", *TEXT_EDGES],
    "properties": [
        {},
        {"appVersion": "2.10.1", "carrierCountry": "us", "osApiLevel": 34},
        {"carrierCountry": "USA"},
        {"carrierCountry": "1A"},
        {"carrierCountry": ""},
        {"osApiLevel": None},
        {"osApiLevel": True},
        {"osApiLevel": "34"},
        {"osApiLevel": 10_001},
        {"osApiLevel": 2.0},
        {"screenSize": "1170x2532"},
        {"screenSize": "big"},
        {"model": "iPhone15,2", "oemName": "Apple", "deviceOsVersion": "17.2"},
        {"model": " iPhone"},
        {"colour": "red"},
        None,
        "2.1",
    ],
    "custom_properties": [
        {},
        {"dog-lover": True},
        {"dog-lover": "yes"},
        {"score": 3, "dog-breed": None},
        {"score": float("inf")},
        {"born": "2026-01-31T09:00:00+02:00"},
        {"born": "tomorrow"},
        {"new-one": 1.5},
        {"bad name!": 1},
        {"model": "X"},
        {"tags": ["a"]},
        {f"p{n}": n for n in range(61)},
        None,
        [],
    ],
    "push_enabled": [True, False, None, "yes", 0],
    "categories": [
        [],
        ["offers"],
        ["news", "offers", "news"],
        ["no spaces"],
        [" offers"],
        [""],
        ["x" * 65],
        [f"c{n}" for n in range(51)],
        "offers",
        None,
        [1],
    ],
    "colour": ["red"],
}
BASES = [
    SEED_BODY,
    {"platform": "android", "push_token": FCM_TOKEN},
    {"platform": "windows", "channel_uri": CHANNEL},
    {},
]
# A valid body with a few fields changed, so that most bodies are near the line.
BODIES = st.builds(
    lambda base, picks: {
        **base,
        **{name: VALUES[name][n % len(VALUES[name])] for name, n in picks.items()},
    },
    st.sampled_from(BASES),
    st.dictionaries(
        st.sampled_from(sorted(VALUES)), st.integers(min_value=0, max_value=100), max_size=3
    ),
)


def judged_by_serializer(body: object) -> tuple[bool, dict | None]:
    app = SimpleNamespace(custom_property_types=TYPES)
    serializer = DeviceRegistrationSerializer(data=body, context={"app": app})
    valid = serializer.is_valid()
    return valid, dict(serializer.validated_data) if valid else None


def assert_agree(body: object) -> None:
    plain = plain_registration(body, TYPES)
    if plain is not None:
        assert judged_by_serializer(body) == (True, plain), body


@pytest.mark.parametrize(("body", "field", "rule"), INVALID)
def test_no_invalid_body_is_taken_as_plain(body, field, rule):
    assert plain_registration(body, TYPES) is None


@pytest.mark.parametrize(
    "body",
    [
        SEED_BODY,
        {"platform": "android", "push_token": FCM_TOKEN, "user_id": "crm-42"},
        {"platform": "windows", "channel_uri": CHANNEL, "locale": "zh-hant-tw"},
        {
            **SEED_BODY,
            "push_token": APNS_TOKEN.upper(),
            "properties": {"carrierCountry": "us", "osApiLevel": 34, "screenSize": "1x2"},
            "custom_properties": {"score": 3, "born": "2026-01-31T09:00:00+02:00"},
            "categories": ["news", "offers", "news"],
        },
    ],
)
def test_plain_bodies_are_taken_as_the_serializer_takes_them(body):
    assert plain_registration(body, TYPES) is not None
    assert_agree(body)


def test_bodies_that_are_not_objects_are_left_to_the_serializer():
    for body in (None, [], "ios", 3, [SEED_BODY]):
        assert plain_registration(body, TYPES) is None


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODIES)
def test_the_plain_check_vouches_only_for_what_the_serializer_accepts(body):
    assert_agree(body)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
def test_a_device_is_shown_as_its_serializer_shows_it(retail, zone):
    """Every platform's body, a retired device and a non-UTC current zone (the dashboard's)."""
    bodies = [
        SEED_BODY,
        {"platform": "android", "push_token": FCM_TOKEN, "custom_properties": {"score": 2.5}},
        {"platform": "windows", "channel_uri": CHANNEL, "properties": {"osApiLevel": 0}},
    ]
    devices = [register_device(retail, uuid.uuid4(), body)[0] for body in bodies]
    unregister_device(devices[1])
    stored = list(retail.devices.all()) + devices
    assert {device.status for device in stored} == {DeviceStatus.ACTIVE, DeviceStatus.UNREGISTERED}
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        for device in stored:
            assert device_json(device) == DeviceSerializer().to_representation(device)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepares statements on PostgreSQL")
def test_only_the_registration_upsert_is_prepared(retail):
    """PostgreSQL plans the upsert once per connection; other statements, however often they
    run, are planned for their values (a segment count's plan depends on them)."""
    for _ in range(6):
        register_device(retail, uuid.uuid4(), SEED_BODY)
        retail.devices.filter(locale="en-US").count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert len(prepared) == 1 and prepared[0].startswith("WITH released AS (UPDATE")

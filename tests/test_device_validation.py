"""Every invalid registration is refused with the field named, and changes nothing stored."""

from __future__ import annotations

import pytest
from django.test import override_settings

from devices.models import Device, MobileApp
from tests.test_device_api import (
    APNS_TOKEN,
    CHANNEL,
    FCM_TOKEN,
    SEED_BODY,
    api,
    device_url,
    put,
)

CHANNEL_TRICKS = [
    "http://db5.notify.windows.com/?token=x",
    "https://evil.example/?host=notify.windows.com",
    "https://notify.windows.com.evil.example/",
    "https://evilnotify.windows.com/",
    "https://user:pass@db5.notify.windows.com/",
    "https://db5.notify.windows.com@evil.example/",
    "https://db5.notify.windows.com:8443/",
    "https://127.0.0.1/",
    "https://[::1]/",
    "https://localhost/",
    "https://2130706433/",
    "https://db5.notify.windows.com./",
    "https://db5.notify.windows.com\\@evil.example/",
    "https://db5.notify.windows.com /",
    "file:///etc/passwd",
    "https://" + "a" * 2100 + ".notify.windows.com/",
]

INVALID = [
    ({"push_token": APNS_TOKEN}, "platform", "required"),
    ({"platform": "blackberry", "push_token": APNS_TOKEN}, "platform", "not a valid choice"),
    ({"platform": "ios"}, "push_token", "iOS devices register a push_token"),
    (
        {"platform": "ios", "push_token": APNS_TOKEN, "channel_uri": CHANNEL},
        "channel_uri",
        "Not allowed",
    ),
    ({"platform": "ios", "push_token": "z" * 64}, "push_token", "hexadecimal"),
    ({"platform": "ios", "push_token": "a" * 63}, "push_token", "hexadecimal"),
    ({"platform": "ios", "push_token": "a" * 65}, "push_token", "even count"),
    ({"platform": "ios", "push_token": 12345}, "push_token", "Not a valid string"),
    (
        {"platform": "android", "push_token": "bad token with spaces!"},
        "push_token",
        "FCM registration token",
    ),
    ({"platform": "android", "push_token": "short"}, "push_token", "FCM registration token"),
    ({"platform": "windows"}, "channel_uri", "WNS channel_uri"),
    (
        {"platform": "windows", "channel_uri": CHANNEL, "push_token": APNS_TOKEN},
        "push_token",
        "Not allowed",
    ),
    ({**SEED_BODY, "locale": "english"}, "locale", "BCP 47"),
    ({**SEED_BODY, "locale": "en_US"}, "locale", "BCP 47"),
    ({**SEED_BODY, "time_zone": "Mars/Olympus_Mons"}, "time_zone", "IANA time zone"),
    ({**SEED_BODY, "time_zone": "europe/paris"}, "time_zone", "IANA time zone"),
    ({**SEED_BODY, "user_id": 42}, "user_id", "Not a valid string"),
    ({**SEED_BODY, "user_id": "  "}, "user_id", "may not be blank"),
    ({**SEED_BODY, "user_id": "u" * 257}, "user_id", "no more than 256"),
    ({**SEED_BODY, "push_enabled": "yes"}, "push_enabled", "true or false"),
    ({**SEED_BODY, "colour": "red"}, "colour", "Unknown field"),
    ({**SEED_BODY, "properties": {"colour": "red"}}, "properties.colour", "Unknown field"),
    (
        {**SEED_BODY, "properties": {"carrierCountry": "USA"}},
        "properties.carrierCountry",
        "no more than 2",
    ),
    (
        {**SEED_BODY, "properties": {"carrierCountry": "1A"}},
        "properties.carrierCountry",
        "ISO 3166",
    ),
    ({**SEED_BODY, "properties": {"osApiLevel": "34"}}, "properties.osApiLevel", "valid integer"),
    (
        {**SEED_BODY, "properties": {"osApiLevel": -1}},
        "properties.osApiLevel",
        "greater than or equal",
    ),
    ({**SEED_BODY, "properties": {"screenSize": "big"}}, "properties.screenSize", "WIDTHxHEIGHT"),
    ({**SEED_BODY, "properties": "2.1"}, "properties", "Invalid data"),
    (
        {**SEED_BODY, "custom_properties": {"bad name!": 1}},
        "custom_properties.bad name!",
        "custom property's name",
    ),
    (
        {**SEED_BODY, "custom_properties": {"tags": ["a"]}},
        "custom_properties.tags",
        "string, number or boolean",
    ),
    (
        {**SEED_BODY, "custom_properties": {"note": "x" * 257}},
        "custom_properties.note",
        "at most 256",
    ),
    (
        {**SEED_BODY, "custom_properties": {f"p{n}": n for n in range(61)}},
        "custom_properties",
        "At most 60",
    ),
    ({**SEED_BODY, "categories": "offers"}, "categories", "Expected a list"),
    ({**SEED_BODY, "categories": ["no spaces please"]}, "categories", "must be 1 to 64"),
    ({**SEED_BODY, "categories": [f"c{n}" for n in range(51)]}, "categories", "no more than 50"),
] + [
    ({"platform": "windows", "channel_uri": uri}, "channel_uri", "channel_uri")
    for uri in CHANNEL_TRICKS
]


@pytest.fixture
def stored(retail, retail_token) -> dict:
    """A registered device whose row must survive every refused request unchanged."""
    assert put(retail_token, retail, SEED_BODY).status_code == 201
    return Device.objects.values().get()


@pytest.mark.parametrize(("body", "field", "rule"), INVALID)
def test_an_invalid_registration_is_refused_and_changes_nothing(
    retail, retail_token, stored, body, field, rule
):
    response = put(retail_token, retail, body)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["field"] == field
    assert rule in error["message"]
    assert Device.objects.values().get() == stored
    assert MobileApp.objects.get(pk=retail.pk).custom_property_types == {
        "dog-lover": "boolean",
        "dog-breed": "string",
    }


@pytest.mark.parametrize(("body", "field", "rule"), INVALID[12:])
def test_an_invalid_patch_is_refused_and_changes_nothing(
    retail, retail_token, stored, body, field, rule
):
    patch = {k: v for k, v in body.items() if k != "platform"}
    response = api(retail_token).patch(device_url(retail), patch, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["field"] == field
    assert Device.objects.values().get() == stored


def test_an_install_id_must_be_a_uuid(retail, retail_token):
    response = put(retail_token, retail, SEED_BODY, install="not-a-uuid")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "install_id"


def test_a_body_that_is_not_json_is_refused(retail, retail_token):
    response = api(retail_token).put(device_url(retail), "platform=ios", content_type="text/plain")
    assert response.status_code == 415
    response = api(retail_token).put(device_url(retail), "{broken", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["error"]["message"]


def test_a_body_that_is_a_list_is_refused(retail, retail_token):
    response = api(retail_token).put(device_url(retail), [SEED_BODY], format="json")
    assert response.status_code == 400


@override_settings(WNS_HOSTS=["notify.windows.com", "localhost:9443"])
def test_a_host_listed_with_its_port_is_allowed_as_written(news, news_token):
    body = {"platform": "windows", "channel_uri": "https://localhost:9443/channel/abc"}
    assert put(news_token, news, body).status_code == 201


def test_an_fcm_token_has_a_sane_character_set(retail, retail_token):
    assert (
        put(retail_token, retail, {"platform": "android", "push_token": FCM_TOKEN}).status_code
        == 201
    )


def test_a_custom_property_cannot_shadow_a_built_in_one(retail, retail_token):
    response = put(retail_token, retail, {**SEED_BODY, "custom_properties": {"model": "X"}})
    assert response.status_code == 400
    assert "taken by a built-in property" in response.json()["error"]["message"]


def test_datetimes_before_the_year_1000_keep_four_digit_years(retail, retail_token):
    retail.custom_property_types = {"founded": "datetime"}
    retail.save()
    body = {**SEED_BODY, "custom_properties": {"founded": "0999-01-01T00:00:00Z"}}
    assert put(retail_token, retail, body).json()["custom_properties"] == {
        "founded": "0999-01-01T00:00:00Z"
    }

"""The events API: an app's backend reports what people did; their devices enter its journeys."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import Notification, Status
from devices.models import Device
from devices.registration import register_device, unregister_device
from events.models import Event, EventSource
from journeys import services as journey_services
from journeys.models import Enrollment, Journey, JourneyStatus, Step, Trigger
from tests.test_device_api import api


def events_url(app) -> str:
    return f"/api/v1/apps/{app.application_id}/events"


def post(token: str, app, body: object):
    return api(token).post(events_url(app), body, format="json")


def phone(app, user_id: str | None = None) -> Device:
    if app.name == "news":
        address = {"platform": "windows", "channel_uri": "https://db5.notify.windows.com/?t=1"}
    else:
        address = {"platform": "ios", "push_token": "ab" + uuid.uuid4().hex * 2}
    return register_device(app, uuid.uuid4(), {**address, "user_id": user_id})[0]


def event_journey(app, event_name: str, status: str = JourneyStatus.ACTIVE) -> Journey:
    journey = Journey.objects.create(
        app=app, name="On sale", trigger=Trigger.EVENT, event_name=event_name, status=status
    )
    message = Notification.objects.create(
        app=app,
        name="On sale · step 1",
        purpose=journey_services.PURPOSE,
        status=Status.AUTOMATED,
        platforms=["ios"],
        title_en="On sale",
    )
    Step.objects.create(journey=journey, position=1, notification=message)
    return journey


def test_an_event_is_stored_for_each_active_device_of_the_named_people(retail, retail_token, news):
    ada_phone, ada_tablet, bo = phone(retail, "ada"), phone(retail, "ada"), phone(retail)
    gone = phone(retail, "ada")
    unregister_device(gone)
    phone(retail, "cy")
    phone(news, "ada")

    response = post(
        retail_token,
        retail,
        {
            "name": "product_on_sale",
            "user_ids": ["ada", "nobody"],
            "install_ids": [str(bo.install_id), str(uuid.uuid4())],
            "properties": {"product": "Red shoes", "discount": 30},
        },
    )

    assert response.status_code == 202, response.json()
    assert response.json() == {"name": "product_on_sale", "devices": 3, "enrolled": 0}
    stored = Event.objects.all()
    assert {e.device_id for e in stored} == {ada_phone.pk, ada_tablet.pk, bo.pk}
    assert {(e.app_id, e.name, e.source) for e in stored} == {
        (retail.pk, "product_on_sale", EventSource.API)
    }
    assert stored[0].properties == {"product": "Red shoes", "discount": 30}


def test_the_timestamp_says_when_it_happened(retail, retail_token):
    phone(retail, "ada")
    response = post(
        retail_token,
        retail,
        {"name": "Order Completed", "user_ids": ["ada"], "timestamp": "2026-01-31T09:00:00+01:00"},
    )
    assert response.status_code == 202, response.json()
    assert Event.objects.get().occurred_at.isoformat() == "2026-01-31T08:00:00+00:00"


def test_an_event_enrols_devices_in_its_active_journey_and_not_in_a_paused_one(
    retail, retail_token
):
    active = event_journey(retail, "product_on_sale")
    paused = event_journey(retail, "product_on_sale", JourneyStatus.PAUSED)
    other = event_journey(retail, "product_viewed")
    ada, bo = phone(retail, "ada"), phone(retail, "bo")

    response = post(
        retail_token,
        retail,
        {"name": "product_on_sale", "user_ids": ["ada", "bo"], "properties": {"product": "Hat"}},
    )

    assert response.json() == {"name": "product_on_sale", "devices": 2, "enrolled": 2}
    entered = Enrollment.objects.filter(journey=active)
    assert {e.device_id for e in entered} == {ada.pk, bo.pk}
    assert entered[0].properties == {"product": "Hat"}
    assert not Enrollment.objects.filter(journey__in=[paused, other]).exists()


FUTURE = (timezone.now() + timedelta(minutes=10)).isoformat()
GOOD = {"name": "product_on_sale", "user_ids": ["ada"]}


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"name": None}, "name", "may not be null"),
        ({"name": ""}, "name", "may not be blank"),
        ({"name": "x" * 129}, "name", "no more than 128"),
        ({"name": "sale!"}, "name", "An event name is 1 to 128"),
        ({"name": " sale"}, "name", "starting with a letter or digit"),
        ({"name": "sale "}, "name", "not ending with a space"),
        ({"name": "sale\x00"}, "name", "NUL character"),
        ({"name": 7}, "name", "Not a valid string"),
        ({"user_ids": [], "install_ids": []}, "user_ids", "must not be empty"),
        ({"user_ids": ["ada"] * 10_001}, "user_ids", "no more than 10000"),
        ({"user_ids": [""]}, "user_ids.0", "may not be blank"),
        ({"user_ids": ["ada", "  "]}, "user_ids.1", "may not be blank"),
        ({"user_ids": ["u" * 257]}, "user_ids.0", "no more than 256"),
        ({"user_ids": [42]}, "user_ids.0", "Not a valid string"),
        ({"user_ids": "ada"}, "user_ids", "Expected a list"),
        ({"install_ids": ["not-a-uuid"]}, "install_ids.0", "Must be a UUID"),
        ({"install_ids": [12]}, "install_ids.0", "Must be a UUID"),
        ({"install_ids": [str(uuid.uuid4())] * 10_001}, "install_ids", "no more than 10000"),
        ({"properties": ["a"]}, "properties", "Expected a dictionary"),
        ({"properties": {"": 1}}, "properties", "Each key is 1 to 64"),
        ({"properties": {"k" * 65: 1}}, "properties", "Each key is 1 to 64"),
        ({"properties": {"text": "x" * 4100}}, "properties", "At most 4096 bytes"),
        ({"properties": {"text": "a\x00b"}}, "properties.text", "NUL character"),
        ({"timestamp": FUTURE}, "timestamp", "5 minutes in the future"),
        ({"timestamp": "yesterday"}, "timestamp", "wrong format"),
        ({"colour": "red"}, "colour", "Unknown field"),
    ],
)
def test_each_rule_is_refused_by_name_and_nothing_is_stored(
    retail, retail_token, changes, field, rule
):
    event_journey(retail, "product_on_sale")
    phone(retail, "ada")

    response = post(retail_token, retail, {**GOOD, **changes})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == field, error
    assert rule in error["message"], error
    assert not Event.objects.exists()
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize("name", ["product_on_sale", "Order Completed", "app:cart.v2-open", "a"])
def test_names_within_the_rule_are_taken(retail, retail_token, name):
    response = post(retail_token, retail, {**GOOD, "name": name})
    assert response.status_code == 202, response.json()


def test_properties_of_exactly_4096_bytes_are_taken(retail, retail_token):
    phone(retail, "ada")
    padding = 4096 - len('{"text":""}')
    response = post(retail_token, retail, {**GOOD, "properties": {"text": "x" * padding}})
    assert response.status_code == 202, response.json()
    assert Event.objects.count() == 1


def test_a_body_that_is_not_an_object_is_refused(retail, retail_token):
    response = post(retail_token, retail, ["product_on_sale"])
    assert response.status_code == 400
    assert not Event.objects.exists()


def test_another_apps_path_is_not_found_and_stores_nothing(retail, retail_token, news, news_token):
    phone(retail, "ada")
    response = post(news_token, retail, GOOD)
    assert response.status_code == 404
    assert not Event.objects.exists()
    assert post("nope", retail, GOOD).status_code == 401


def test_an_event_never_reaches_another_apps_devices(retail, news, news_token):
    phone(retail, "ada")
    response = post(news_token, news, GOOD)
    assert response.json()["devices"] == 0
    assert not Event.objects.exists()


def test_the_schema_documents_the_events_api_with_an_example(db):
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/apps/{app_id}/events"]["post"]
    assert operation["operationId"] == "Events_Record"
    assert "202" in operation["responses"] and "400" in operation["responses"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert any(e["value"]["name"] == "product_on_sale" for e in examples.values())

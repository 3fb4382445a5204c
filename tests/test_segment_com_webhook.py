"""The Segment.com webhook: signed calls only; track records events, identify sets custom
properties.

The shared secret is write-only on the app's page and encrypted in the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.test import Client, override_settings

from devices.models import MobileApp
from devices.registration import register_device
from events.models import Event
from journeys.models import Enrollment, JourneyStatus, SegmentComSource
from tests.conftest import logged_in
from tests.html_forms import read_form
from tests.test_events_api import event_journey, phone

SECRET = "segment-shared-secret-0123456789"


def set_secret(app: MobileApp, secret: str) -> SegmentComSource:
    """Give the app this Segment.com shared secret, as its page does."""
    source = SegmentComSource.of(app)
    source.store_secret(secret)
    source.save()
    return source


@pytest.fixture
def app(retail) -> MobileApp:
    set_secret(retail, SECRET)
    return retail


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def segment_url(app) -> str:
    return f"/api/v1/apps/{app.application_id}/segment"


def deliver(app, call: object, signature: str | None = None, raw: bytes | None = None):
    """POST a call as Segment.com does, signed with the shared secret unless told otherwise."""
    body = raw if raw is not None else json.dumps(call).encode()
    headers = {"HTTP_X_SIGNATURE": signature if signature is not None else sign(body)}
    if signature == "":
        headers = {}
    return Client().post(segment_url(app), body, content_type="application/json", **headers)


TRACK = {
    "type": "track",
    "event": "Product Saved",
    "userId": "ada",
    "anonymousId": "507f191e810c19729de860ea",
    "properties": {"product": "Red shoes"},
    "timestamp": "2026-01-31T09:00:00.000Z",
}


# Signature


def test_a_signed_track_call_records_an_event_from_segment_com(app, news):
    ada = phone(app, "ada")
    phone(app, "bo")
    phone(news, "ada")

    response = deliver(app, TRACK)

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "type": "track",
        "name": "Product Saved",
        "devices": 1,
        "enrolled": 0,
    }
    event = Event.objects.get()
    assert (event.device_id, event.name, event.source) == (ada.pk, "Product Saved", "segment")
    assert event.properties == {"product": "Red shoes"}
    assert event.occurred_at.isoformat() == "2026-01-31T09:00:00+00:00"


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "0" * 40,
        sign(b"another body"),
        sign(json.dumps(TRACK).encode(), "another-secret-456789"),
    ],
)
def test_a_missing_or_wrong_signature_is_refused_and_stores_nothing(app, signature):
    phone(app, "ada")
    response = deliver(app, TRACK, signature)
    assert response.status_code == 401
    assert "X-Signature" in response.json()["error"]["message"]
    assert response["WWW-Authenticate"] == "X-Signature"
    assert not Event.objects.exists()


def test_a_signature_in_capitals_is_the_same_signature(app):
    body = json.dumps(TRACK).encode()
    assert deliver(app, TRACK, sign(body).upper()).status_code == 200


def test_an_app_without_a_secret_refuses_segment_com_clearly(retail):
    phone(retail, "ada")
    response = deliver(retail, TRACK, sign(json.dumps(TRACK).encode()))
    assert response.status_code == 403
    assert "set its shared secret" in response.json()["error"]["message"]
    assert not Event.objects.exists()


@pytest.mark.parametrize("application_id", [str(uuid.uuid4()), "retail"])
def test_an_unknown_app_is_not_found(app, application_id):
    body = json.dumps(TRACK).encode()
    response = Client().post(
        f"/api/v1/apps/{application_id}/segment",
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE=sign(body),
    )
    assert response.status_code == 404


def test_another_apps_secret_does_not_sign_for_this_app(app, news):
    set_secret(news, "the-news-apps-own-secret")
    body = json.dumps(TRACK).encode()
    assert deliver(app, TRACK, sign(body, "the-news-apps-own-secret")).status_code == 401


# track


def test_track_enrols_the_devices_in_the_events_active_journey(app):
    journey = event_journey(app, "Product Saved")
    paused = event_journey(app, "Product Saved", JourneyStatus.PAUSED)
    ada = phone(app, "ada")

    response = deliver(app, TRACK)

    assert response.json()["enrolled"] == 1
    assert Enrollment.objects.get().journey_id == journey.pk
    assert Enrollment.objects.get().device_id == ada.pk
    assert not Enrollment.objects.filter(journey=paused).exists()


def test_without_a_user_id_the_install_named_by_the_device_id_or_anonymous_id_gets_it(app):
    by_device, by_anonymous = phone(app), phone(app)
    phone(app)
    calls = [
        {**TRACK, "userId": None, "context": {"device": {"id": str(by_device.install_id)}}},
        {**TRACK, "anonymousId": str(by_anonymous.install_id)},
    ]
    del calls[1]["userId"]

    answers = [deliver(app, call).json() for call in calls]

    assert [a["devices"] for a in answers] == [1, 1]
    assert {e.device_id for e in Event.objects.all()} == {by_device.pk, by_anonymous.pk}


def test_an_anonymous_id_that_is_no_install_reaches_nobody(app):
    phone(app)
    call = {key: value for key, value in TRACK.items() if key != "userId"}
    response = deliver(app, call)
    assert response.status_code == 200 and response.json()["devices"] == 0


@pytest.mark.parametrize(
    ("call", "field", "rule"),
    [
        ({"type": "track", "userId": "ada"}, "event", "names its event"),
        ({**TRACK, "event": "Saved!"}, "event", "An event name is 1 to 128"),
        ({**TRACK, "properties": [1]}, "properties", "JSON object"),
        ({**TRACK, "properties": {"t": "x" * 5000}}, "properties", "At most 4096 bytes"),
        ({**TRACK, "timestamp": "yesterday"}, "timestamp", "ISO 8601"),
        ({**TRACK, "timestamp": "2999-01-01T00:00:00Z"}, "timestamp", "5 minutes in the future"),
        ({**TRACK, "userId": ""}, "userId", "non-blank string"),
        ({**TRACK, "userId": 42}, "userId", "non-blank string"),
        ({"type": "track", "event": "Product Saved"}, "userId", "userId or anonymousId"),
        ({"event": "Product Saved", "userId": "ada"}, "type", "Required"),
        ({"type": "identify", "userId": "ada", "traits": ["plan"]}, "traits", "JSON object"),
        ({"type": "identify", "traits": {"plan": "gold"}}, "userId", "userId or anonymousId"),
    ],
)
def test_a_call_missing_or_breaking_a_field_is_refused_by_name(app, call, field, rule):
    phone(app, "ada")
    response = deliver(app, call)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == field, error
    assert rule in error["message"], error
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"type": "track", "x": NaN}', "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (json.dumps([TRACK]).encode(), "turn batching off"),
    ],
)
def test_a_body_that_is_not_one_json_call_is_refused(app, raw, rule):
    response = deliver(app, None, sign(raw), raw)
    assert response.status_code == 400
    assert rule in response.json()["error"]["message"]
    assert not Event.objects.exists()


# identify


def test_identify_merges_traits_into_the_users_devices_and_declares_their_types(app, news):
    ada_phone = phone(app, "ada")
    ada_tablet, _ = register_device(
        app,
        uuid.uuid4(),
        {
            "platform": "ios",
            "push_token": "ab" * 32,
            "user_id": "ada",
            "custom_properties": {"dog-lover": True, "plan": "silver"},
        },
    )
    bo = phone(app, "bo")
    elsewhere = phone(news, "ada")

    response = deliver(
        app,
        {"type": "identify", "userId": "ada", "traits": {"plan": "gold", "visits": 12}},
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "type": "identify",
        "devices": 2,
        "merged": ["plan", "visits"],
        "skipped": {},
    }
    for device in (ada_phone, ada_tablet, bo, elsewhere):
        device.refresh_from_db()
    assert ada_phone.custom_properties == {"plan": "gold", "visits": 12}
    assert ada_tablet.custom_properties == {"dog-lover": True, "plan": "gold", "visits": 12}
    assert bo.custom_properties == {} and elsewhere.custom_properties == {}
    app.refresh_from_db()
    assert app.custom_property_types == {
        "dog-lover": "boolean",
        "plan": "string",
        "visits": "number",
    }


def test_bad_traits_are_skipped_and_listed_and_the_good_ones_kept(app):
    MobileApp.objects.filter(pk=app.pk).update(custom_property_types={"age": "number"})
    app.refresh_from_db()
    ada = phone(app, "ada")
    traits = {
        "plan": "gold",
        "first name": "Ada",
        "platform": "ios",
        "address": {"city": "Paris"},
        "tags": ["a"],
        "nothing": None,
        "age": "forty",
        "bio": "x" * 300,
        "nul": "a\x00b",
        "signed-in": True,
    }

    response = deliver(app, {"type": "identify", "userId": "ada", "traits": traits})

    body = response.json()
    assert response.status_code == 200, body
    assert body["merged"] == ["plan", "signed-in"]
    assert set(body["skipped"]) == {
        "first name",
        "platform",
        "address",
        "tags",
        "nothing",
        "age",
        "bio",
        "nul",
    }
    assert "1 to 64 letters" in body["skipped"]["first name"]
    assert "built-in property" in body["skipped"]["platform"]
    assert "string, number or boolean" in body["skipped"]["address"]
    assert "declares it number" in body["skipped"]["age"]
    ada.refresh_from_db()
    assert ada.custom_properties == {"plan": "gold", "signed-in": True}
    app.refresh_from_db()
    assert app.custom_property_types == {"age": "number", "plan": "string", "signed-in": "boolean"}


def test_identify_of_an_unknown_user_changes_nothing(app):
    response = deliver(app, {"type": "identify", "userId": "nobody", "traits": {"plan": "gold"}})
    assert response.json() == {"type": "identify", "devices": 0, "merged": [], "skipped": {}}
    app.refresh_from_db()
    assert app.custom_property_types == {}


@pytest.mark.parametrize("kind", ["page", "screen", "group", "alias"])
def test_other_calls_are_acknowledged_and_ignored(app, kind):
    phone(app, "ada")
    response = deliver(app, {"type": kind, "userId": "ada", "name": "Home"})
    assert response.status_code == 200
    assert response.json() == {"ignored": kind}
    assert not Event.objects.exists()


# The shared secret


def app_page(client, app):
    return client.get(f"/devices/mobileapp/{app.pk}/change/").content.decode()


def secret_fields(**changes: str) -> dict[str, str]:
    """The app page's fields for the shared secret (an inline of journeys' SegmentComSource)."""
    return {f"segment_com_source-0-{name}": value for name, value in changes.items()}


def stored_secret(app: MobileApp) -> str | None:
    return SegmentComSource.objects.get(app=app).read_secret()


def save_app_page(client, app, **changes: str):
    data = read_form(app_page(client, app), "mobileapp_form")
    data.update(changes)
    return client.post(f"/devices/mobileapp/{app.pk}/change/", data)


def test_the_secret_is_set_on_the_app_page_encrypted_and_never_shown(alice, retail, caplog):
    client = logged_in(alice)
    assert "Not set yet." in app_page(client, retail)

    with caplog.at_level(logging.DEBUG):
        response = save_app_page(client, retail, **secret_fields(shared_secret=SECRET))

    assert response.status_code == 302
    assert SECRET not in caplog.text
    stored = SegmentComSource.objects.get(app=retail)
    assert stored.encrypted_secret and SECRET not in stored.encrypted_secret
    assert stored.read_secret() == SECRET
    page = app_page(client, retail)
    assert SECRET not in page and stored.encrypted_secret not in page
    assert f"Set on {stored.secret_set_at:%Y-%m-%d}" in page
    assert deliver(retail, TRACK).status_code == 200


def test_saving_the_page_without_a_secret_keeps_it_and_clearing_removes_it(alice, app):
    client = logged_in(alice)
    save_app_page(client, app, display_name="Retail shop")
    app.refresh_from_db()
    assert app.display_name == "Retail shop" and stored_secret(app) == SECRET

    save_app_page(client, app, **secret_fields(clear_shared_secret="on"))

    source = SegmentComSource.objects.get(app=app)
    assert source.read_secret() is None and source.secret_set_at is None
    assert deliver(app, TRACK).status_code == 403


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"shared_secret": "sh0rtZq"}, "at least 16 characters"),
        (
            {"shared_secret": "Xq7-never-shown-9Lp2", "clear_shared_secret": "on"},
            "or clear it, not both",
        ),
    ],
)
def test_a_bad_secret_is_refused_and_never_shown_back(alice, app, changes, message):
    response = save_app_page(logged_in(alice), app, **secret_fields(**changes))
    page = response.content.decode()
    assert response.status_code == 200 and message in page
    assert changes["shared_secret"] not in page
    app.refresh_from_db()
    assert stored_secret(app) == SECRET


def test_key_rotation_re_encrypts_the_segment_com_secret(organization):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(ENCRYPTION_KEYS=[old_key]):
        shop = MobileApp.objects.create(organization=organization, name="shop")
        set_secret(shop, SECRET)
    with override_settings(ENCRYPTION_KEYS=[new_key, old_key]):
        output = StringIO()
        call_command("rotate_encryption_keys", stdout=output)
    assert "1 Segment shared secret(s)" in output.getvalue()
    with override_settings(ENCRYPTION_KEYS=[new_key]):
        assert stored_secret(shop) == SECRET

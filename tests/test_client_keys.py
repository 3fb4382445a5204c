"""Client keys: the key an app ships registers its own device and reports launches, nothing more.

A client key is taken from the app by anyone who unpacks it, so every other door answers 403
naming the server token it needs, and stores nothing. Its calls are limited per key and per
client address. Server tokens keep doing everything (the other API test files use them).
"""

from __future__ import annotations

import json
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from rest_framework.test import APIClient

from campaigns.launches import tracking_id
from campaigns.models import Notification
from devices.models import ApiToken, ApnsCredential, Device, DeviceStatus, TokenKind
from devices.services import authenticate_token, issue_api_token
from events.models import Event
from pushcenter import demo
from segments.models import Segment
from tests.conftest import logged_in
from tests.test_device_api import APNS_TOKEN, CHANNEL, SEED_BODY
from tests.test_launches_api import delivery_of

INSTALL = "00000000-0000-4000-8000-0000000000c1"
OTHER_INSTALL = "00000000-0000-4000-8000-0000000000c2"


def api(token: str, address: str = "127.0.0.1", **headers: str) -> APIClient:
    client = APIClient(REMOTE_ADDR=address, **headers)
    client.credentials(HTTP_X_API_TOKEN=token)
    return client


def device_url(app, install: str = INSTALL) -> str:
    return f"/api/v1/apps/{app.application_id}/devices/{install}"


def d365_url(app, user_id: str = "ada") -> str:
    org = app.organization.organization_id
    return f"/api/v1.0/orgs/{org}/pushchannel/apps/{app.application_id}/devices/{user_id}"


def assert_needs_server_token(response) -> None:
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "server_token_required"
    assert "server token" in error["message"]


@pytest.fixture
def registered(retail, retail_client_key) -> Device:
    response = api(retail_client_key).put(device_url(retail), SEED_BODY, format="json")
    assert response.status_code == 201, response.json()
    return Device.objects.get(install_id=INSTALL)


# What a client key may do


def test_a_client_key_registers_its_device(retail, retail_client_key):
    response = api(retail_client_key).put(device_url(retail), SEED_BODY, format="json")
    assert response.status_code == 201, response.json()
    device = Device.objects.get()
    assert (device.app, str(device.install_id), device.push_token) == (retail, INSTALL, APNS_TOKEN)


def test_a_client_key_updates_its_device(retail, retail_client_key, registered):
    response = api(retail_client_key).patch(
        device_url(retail), {"push_enabled": False}, format="json"
    )
    assert response.status_code == 200, response.json()
    registered.refresh_from_db()
    assert registered.push_enabled is False


def test_a_client_key_unregisters_its_device(retail, retail_client_key, registered):
    assert api(retail_client_key).delete(device_url(retail)).status_code == 204
    registered.refresh_from_db()
    assert registered.status == DeviceStatus.UNREGISTERED


def test_a_client_key_sets_its_devices_user(retail, retail_client_key, registered):
    response = api(retail_client_key).put(
        f"{device_url(retail)}/user", {"user_id": "crm-42"}, format="json"
    )
    assert response.status_code == 200, response.json()
    registered.refresh_from_db()
    assert registered.user_id == "crm-42"


def test_the_d365_door_takes_a_client_key_in_the_body(retail, retail_client_key):
    body = {"ApnsDeviceContract": {"ApnsToken": "b7" * 32}, "ApiToken": retail_client_key}
    response = APIClient().post(d365_url(retail), body, format="json")
    assert response.status_code == 201, response.json()
    assert Device.objects.get().user_id == "ada"


def test_the_d365_door_takes_a_client_key_in_the_header(news):
    _, key = issue_api_token(news, "News app", kind=TokenKind.CLIENT)
    body = {"WnsDeviceContract": {"ChannelUri": CHANNEL}}
    response = api(key).post(d365_url(news, "bo"), body, format="json")
    assert response.status_code == 201, response.json()
    assert Device.objects.get().channel_uri == CHANNEL


def test_a_client_key_reports_a_launch(retail, retail_client_key):
    delivery = delivery_of(retail)
    response = api(retail_client_key).post(
        f"/api/v1/apps/{retail.application_id}/launches",
        {"tracking_id": tracking_id(delivery.pk)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    delivery.refresh_from_db()
    assert delivery.launched_at is not None


def test_a_client_key_reaches_only_its_own_app(retail, news, retail_client_key):
    response = api(retail_client_key).put(device_url(news), SEED_BODY, format="json")
    assert response.status_code == 404
    assert not Device.objects.exists()


# What a client key may not do: each is refused and changes nothing


def test_a_client_key_cannot_read_a_device_back(retail, retail_client_key, registered):
    assert_needs_server_token(api(retail_client_key).get(device_url(retail)))


def test_a_client_key_cannot_list_devices(retail, retail_client_key, registered):
    response = api(retail_client_key).get(f"/api/v1/apps/{retail.application_id}/devices")
    assert_needs_server_token(response)


def test_a_client_key_cannot_read_the_app(retail, retail_client_key):
    assert_needs_server_token(api(retail_client_key).get(f"/api/v1/apps/{retail.application_id}"))


def test_a_client_key_cannot_send(retail, retail_client_key, registered):
    url = f"/api/v0.1/apps/{retail.organization.name}/{retail.name}/push/notifications"
    body = {"notification_content": {"name": "Sale", "title": "Half price", "body": "Today."}}
    assert_needs_server_token(api(retail_client_key).post(url, body, format="json"))
    assert_needs_server_token(api(retail_client_key).get(url))
    assert not Notification.objects.exists()


def test_a_client_key_cannot_manage_audiences(retail, retail_client_key):
    kept = Segment.objects.create(app=retail, name="kept", definition="exists(carrierCountry)")
    base = f"/api/v0.1/apps/{retail.organization.name}/{retail.name}/analytics/audiences"
    client = api(retail_client_key)
    body = {"definition": "carrierCountry eq 'US'"}
    assert_needs_server_token(client.put(f"{base}/us-users", body, format="json"))
    assert_needs_server_token(client.put(f"{base}/kept", body, format="json"))
    assert_needs_server_token(client.delete(f"{base}/kept"))
    assert_needs_server_token(client.get(f"{base}/kept"))
    assert_needs_server_token(client.get(base))
    assert list(Segment.objects.values_list("name", "definition")) == [("kept", kept.definition)]


def test_a_client_key_cannot_post_events(retail, retail_client_key, registered):
    body = {"name": "product_on_sale", "user_ids": [SEED_BODY["user_id"]]}
    response = api(retail_client_key).post(
        f"/api/v1/apps/{retail.application_id}/events", body, format="json"
    )
    assert_needs_server_token(response)
    assert not Event.objects.exists()


def test_a_client_key_cannot_validate_credentials(retail, retail_client_key):
    response = api(retail_client_key).post(
        f"/api/v1/apps/{retail.application_id}/credentials/validate"
    )
    assert_needs_server_token(response)
    assert ApnsCredential.objects.get(app=retail).validated_at is None


def test_a_server_token_still_does_everything(retail, retail_token, registered):
    client = api(retail_token)
    assert client.get(device_url(retail)).status_code == 200
    assert client.get(f"/api/v1/apps/{retail.application_id}/devices").status_code == 200
    assert client.get(f"/api/v1/apps/{retail.application_id}").status_code == 200


# Rate limits


@override_settings(CLIENT_ADDRESS_RATE=(2, 60))
def test_a_client_key_is_limited_per_address(retail, retail_client_key):
    def register(address: str):
        install = str(uuid.uuid4())
        return api(retail_client_key, address).put(
            device_url(retail, install), SEED_BODY, format="json"
        )

    assert [register("203.0.113.7").status_code for _ in range(2)] == [201, 201]
    throttled = register("203.0.113.7")
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "throttled"
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert register("203.0.113.8").status_code == 201
    assert Device.objects.count() == 3


@override_settings(CLIENT_KEY_RATE=(3, 60))
def test_a_client_key_is_limited_per_key_whatever_the_address(retail, retail_client_key):
    addresses = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"]
    answers = [
        api(retail_client_key, address).put(device_url(retail), SEED_BODY, format="json")
        for address in addresses
    ]
    assert [answer.status_code for answer in answers] == [201, 200, 200, 429]
    _, other_key = issue_api_token(retail, "Second app build", kind=TokenKind.CLIENT)
    assert api(other_key).put(device_url(retail), SEED_BODY, format="json").status_code == 200


@override_settings(CLIENT_ADDRESS_RATE=(1, 60), BEHIND_TLS_PROXY=False)
def test_a_forwarded_for_header_is_ignored_without_a_trusted_proxy(retail, retail_client_key):
    first = api(retail_client_key, HTTP_X_FORWARDED_FOR="192.0.2.1")
    second = api(retail_client_key, HTTP_X_FORWARDED_FOR="192.0.2.2")
    assert first.put(device_url(retail), SEED_BODY, format="json").status_code == 201
    assert second.put(device_url(retail), SEED_BODY, format="json").status_code == 429


@override_settings(CLIENT_ADDRESS_RATE=(1, 60), BEHIND_TLS_PROXY=True)
def test_behind_a_trusted_proxy_the_address_it_adds_is_the_one_limited(retail, retail_client_key):
    def register(forwarded_for: str):
        client = api(retail_client_key, "10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)
        return client.put(device_url(retail), SEED_BODY, format="json").status_code

    assert register("192.0.2.1") == 201
    # A forged first entry does not make the same phone a new address.
    assert register("203.0.113.99, 192.0.2.1") == 429
    assert register("192.0.2.2") == 200


@override_settings(API_RATE=(1, 60), CLIENT_KEY_RATE=(1000, 60), CLIENT_ADDRESS_RATE=(1000, 60))
def test_a_server_token_keeps_its_own_rate(retail, retail_token, retail_client_key):
    assert api(retail_client_key).put(device_url(retail), SEED_BODY, format="json").status_code in (
        200,
        201,
    )
    url = f"/api/v1/apps/{retail.application_id}"
    assert [api(retail_token).get(url).status_code for _ in range(2)] == [200, 429]
    other = device_url(retail, OTHER_INSTALL)
    assert api(retail_client_key).put(other, SEED_BODY, format="json").status_code == 201


# Where keys are made


def test_the_command_makes_a_client_key_or_by_default_a_server_token(retail):
    made = {}
    for arguments in ([], ["--kind", "client"], ["--kind", "server"]):
        output = StringIO()
        call_command("create_api_token", "contoso/retail", *arguments, stdout=output)
        made[tuple(arguments)] = authenticate_token(output.getvalue().strip())
    assert made[()].kind == TokenKind.SERVER and made[()].app == retail
    assert made[("--kind", "client")].kind == TokenKind.CLIENT
    assert made[("--kind", "server")].kind == TokenKind.SERVER


def test_the_command_refuses_an_unknown_kind(retail):
    with pytest.raises(CommandError, match="invalid choice: 'admin'"):
        call_command("create_api_token", "contoso/retail", "--kind", "admin")
    assert not ApiToken.objects.exists()


def test_the_add_page_says_where_each_kind_belongs(alice, retail):
    page = logged_in(alice).get("/devices/apitoken/add/").content.decode()
    assert "ships inside your iOS, Android or Windows app" in page
    assert "it must never ship inside an app" in page
    assert 'name="kind"' in page and 'value="client"' in page and 'value="server"' in page


def test_a_token_is_not_made_until_its_kind_is_chosen(alice, retail):
    response = logged_in(alice).post("/devices/apitoken/add/", {"app": retail.pk, "name": "x"})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("kind", "advice"),
    [("client", "ships inside your app"), ("server", "must never ship inside an app")],
)
def test_the_dashboard_makes_either_kind_and_shows_it_once(alice, retail, kind, advice):
    client = logged_in(alice)
    response = client.post(
        "/devices/apitoken/add/", {"app": retail.pk, "kind": kind, "name": "Made here"}
    )
    assert response.status_code == 302
    shown = client.get(response["Location"])
    plaintext = shown.context["plaintext"]
    assert advice in shown.content.decode()
    assert authenticate_token(plaintext).kind == kind
    listing = client.get("/devices/apitoken/").content.decode()
    assert dict(TokenKind.choices)[kind] in listing


def test_the_session_never_holds_the_new_token_in_plaintext(alice, retail):
    client = logged_in(alice)
    response = client.post(
        "/devices/apitoken/add/", {"app": retail.pk, "kind": "client", "name": "iOS app"}
    )
    session = client.session
    stored = {key: session[key] for key in session.keys()}

    plaintext = client.get(response["Location"]).context["plaintext"]

    assert plaintext not in repr(stored)
    assert not any(str(value).startswith("pc_") for value in stored.values())


def test_demo_json_gives_each_app_its_client_key_beside_the_server_token(db, tmp_path):
    with override_settings(VAR_DIR=tmp_path):
        first = demo.seed("http://127.0.0.1:8000/")
        second = demo.seed("http://127.0.0.1:8000/")
        written = json.loads((tmp_path / "demo.json").read_text())
    assert first == second == written
    for app in written["apps"]:
        server, client = authenticate_token(app["api_token"]), authenticate_token(app["client_key"])
        assert (server.kind, client.kind) == (TokenKind.SERVER, TokenKind.CLIENT)
        assert (
            str(client.app.application_id)
            == app["application_id"]
            == str(server.app.application_id)
        )

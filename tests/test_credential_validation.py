"""Validate credentials: the app page's button and the API prove each credential to its provider.

The providers are the sandbox gateways, over real sockets.
"""

from __future__ import annotations

import uuid

import pytest

from devices.models import ApnsCredential, ValidationStatus, WnsCredential
from devices.registration import register_device
from tests.conftest import PACKAGE_SID, logged_in

pytest_plugins = ["tests.sandbox"]

API = "/api/v1/apps/{}/credentials/validate"


def validate_page(app) -> str:
    return f"/devices/mobileapp/{app.pk}/validate/"


def test_the_button_stores_each_credential_valid_with_the_providers_word(sandbox, alice, retail):
    response = logged_in(alice).post(validate_page(retail), follow=True)

    shown = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("APNs: valid.") for m in shown)
    assert any(m.startswith("FCM: valid.") for m in shown)
    retail.apns_credential.refresh_from_db()
    retail.fcm_credential.refresh_from_db()
    assert retail.apns_credential.validation_status == ValidationStatus.VALID
    assert retail.fcm_credential.validation_status == ValidationStatus.VALID
    assert {line["provider"] for line in sandbox.received()} >= {"apns", "fcm", "fcm-token"}


def test_a_refused_credential_is_stored_invalid_with_the_providers_reason(sandbox, alice, retail):
    apns = retail.apns_credential
    # A raw update sends no signal: the gateway still knows the key under its first team.
    ApnsCredential.objects.filter(pk=apns.pk).update(team_id="OTHERTEAM1")

    response = logged_in(alice).post(validate_page(retail), follow=True)

    shown = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("APNs: refused.") and "Provider" in m for m in shown)
    apns.refresh_from_db()
    assert apns.validation_status == ValidationStatus.INVALID
    assert "Provider" in apns.validation_message


def test_wns_is_validated_by_obtaining_a_token(sandbox, alice, news):
    logged_in(alice).post(validate_page(news))

    news.wns_credential.refresh_from_db()
    assert news.wns_credential.validation_status == ValidationStatus.VALID
    assert "wns-token" in [line["provider"] for line in sandbox.received()]


def test_a_package_sid_credential_is_validated_by_the_live_endpoints_token(sandbox, alice, store):
    response = logged_in(alice).post(validate_page(store), follow=True)

    shown = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("WNS: valid.") for m in shown)
    store.wns_credential.refresh_from_db()
    assert store.wns_credential.validation_status == ValidationStatus.VALID
    [token] = sandbox.received("wns-token")
    assert (token["target"], token["status"]) == (PACKAGE_SID, 200)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("secret", "invalid_client (Invalid client secret)"),
        ("sid", "invalid_client (Invalid client id)"),
    ],
    ids=["wrong-secret", "unknown-sid"],
)
def test_a_package_sid_credential_the_live_endpoint_refuses_is_stored_invalid(
    sandbox, alice, store, change, said
):
    stored = store.wns_credential
    # Raw updates send no signal: the gateway still knows the first SID and secret.
    if change == "secret":
        stored.store_secret({"client_secret": "not-the-secret"})
        WnsCredential.objects.filter(pk=stored.pk).update(encrypted_secret=stored.encrypted_secret)
    else:
        WnsCredential.objects.filter(pk=stored.pk).update(package_sid=PACKAGE_SID + "7")

    response = logged_in(alice).post(validate_page(store), follow=True)

    shown = " ".join(str(m) for m in response.context["messages"])
    assert "WNS: refused." in shown and said in shown
    assert "not-the-secret" not in response.content.decode()
    stored.refresh_from_db()
    assert stored.validation_status == ValidationStatus.INVALID
    assert stored.validation_message.endswith(said)
    assert [line["status"] for line in sandbox.received("wns-token")] == [400]


def test_a_marketer_cannot_validate(sandbox, bob, retail):
    assert logged_in(bob).post(validate_page(retail)).status_code == 403
    assert not sandbox.reached()


def test_the_api_validates_the_tokens_own_app(sandbox, client, retail, retail_token):
    response = client.post(API.format(retail.application_id), HTTP_X_API_TOKEN=retail_token)

    assert response.status_code == 200
    assert [(r["platform"], r["provider"], r["valid"]) for r in response.json()] == [
        ("ios", "APNs", True),
        ("android", "FCM", True),
    ]


def test_the_api_does_not_reach_another_apps_credentials(sandbox, client, news, retail_token):
    response = client.post(API.format(news.application_id), HTTP_X_API_TOKEN=retail_token)

    assert response.status_code == 404
    assert not sandbox.reached()


def register(app, platform: str, **address) -> None:
    register_device(app, uuid.uuid4(), {"platform": platform, **address})


def test_a_registered_device_is_tried_with_a_silent_push(sandbox, alice, retail):
    register(retail, "ios", push_token="ab" * 32)
    register(retail, "android", push_token="android-token-1")

    logged_in(alice).post(validate_page(retail))

    retail.apns_credential.refresh_from_db()
    assert "A silent check reached 1 of 1 devices" in retail.apns_credential.validation_message
    [probe] = [line for line in sandbox.received("apns") if line["target"] == "ab" * 32]
    assert probe["headers"]["apns-push-type"] == "background"
    assert probe["headers"]["apns-priority"] == "5"
    [check] = [line for line in sandbox.received("fcm") if "android-token-1" in str(line)]
    assert check["validate_only"] is True


def test_a_wrong_apns_environment_shows_before_a_campaign_does(sandbox, alice, retail):
    register(retail, "ios", push_token="ab" * 32)
    sandbox.wrong_environment(retail)

    logged_in(alice).post(validate_page(retail))

    apns = retail.apns_credential
    apns.refresh_from_db()
    assert apns.validation_status == ValidationStatus.INVALID
    assert "refused every registered device tried (1)" in apns.validation_message
    assert "BadDeviceToken" in apns.validation_message
    assert "environment" in apns.validation_message


def test_a_wrong_firebase_project_shows_before_a_campaign_does(sandbox, alice, retail):
    register(retail, "android", push_token="other-1")

    logged_in(alice).post(validate_page(retail))

    fcm = retail.fcm_credential
    fcm.refresh_from_db()
    assert fcm.validation_status == ValidationStatus.INVALID
    assert "SENDER_ID_MISMATCH" in fcm.validation_message


def test_an_app_without_devices_is_told_what_was_not_proved(sandbox, alice, retail):
    logged_in(alice).post(validate_page(retail))

    retail.apns_credential.refresh_from_db()
    message = retail.apns_credential.validation_message
    assert "Not proved by that" in message and "No registered device to try yet" in message


def test_wns_says_it_has_no_silent_check(sandbox, alice, news):
    logged_in(alice).post(validate_page(news))

    news.wns_credential.refresh_from_db()
    assert "WNS has no silent check" in news.wns_credential.validation_message

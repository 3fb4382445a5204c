"""An app's setup: the public endpoint, the checklist, credentials proved when saved, snippets.

Providers are the sandbox gateways over real sockets; a check queued on save is run here as a
worker runs it.
"""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from campaigns import delivery, launches
from campaigns.models import Delivery, Notification, Status
from devices import setup_status, tasks
from devices.models import (
    ApnsCredential,
    MobileApp,
    TokenKind,
    ValidationStatus,
    WnsCredential,
)
from devices.registration import register_device
from devices.services import issue_api_token
from tests.conftest import logged_in, send_due, set_sending_rules
from tests.html_forms import read_form
from tests.test_settings import run_settings, settings_under

pytest_plugins = ["tests.sandbox"]

PUBLIC = "https://push.contoso.example"


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.PUBLIC_URL = PUBLIC


@pytest.fixture
def shop(organization) -> MobileApp:
    return MobileApp.objects.create(organization=organization, name="shop", display_name="Shop")


def page(user, app: MobileApp) -> str:
    return logged_in(user).get(f"/devices/mobileapp/{app.pk}/change/").content.decode()


def steps(app: MobileApp) -> dict[str, setup_status.Step]:
    return {step.key: step for step in setup_status.status(app).steps}


def register(app: MobileApp, platform: str = "ios", **fields) -> None:
    token = "ab" * 32 if platform == "ios" else "android-token-1"
    register_device(app, uuid.uuid4(), {"platform": platform, "push_token": token, **fields})


# The public endpoint


def test_the_public_url_defaults_to_the_demos_address():
    assert settings_under({}, "PUBLIC_URL") == {"PUBLIC_URL": "http://127.0.0.1:8000"}


def test_the_public_url_is_read_without_its_trailing_slash():
    found = settings_under({"PUSHCENTER_PUBLIC_URL": "https://push.example.com/pc/"}, "PUBLIC_URL")
    assert found == {"PUBLIC_URL": "https://push.example.com/pc"}


@pytest.mark.parametrize(
    "value",
    [
        "push.example.com",
        "ftp://push.example.com",
        "https://",
        "https://push.example.com/?a=1",
        "https://push.example.com/#top",
        "https://user:secret@push.example.com",
        "https://push.example.com:99999",
    ],
)
def test_a_public_url_that_is_not_an_absolute_http_url_stops_the_settings(value):
    result = run_settings({"PUSHCENTER_PUBLIC_URL": value}, "PUBLIC_URL")
    assert result.returncode != 0
    assert "PUSHCENTER_PUBLIC_URL" in result.stderr


def test_the_app_page_shows_the_public_endpoint_beside_the_ids(alice, retail):
    html = page(alice, retail)
    assert "Public endpoint" in html and PUBLIC in html
    assert str(retail.application_id) in html
    assert str(retail.organization.organization_id) in html


def test_the_token_created_page_names_the_public_endpoint(alice, retail):
    client = logged_in(alice)
    response = client.post(
        "/devices/apitoken/add/", {"app": retail.pk, "kind": "client", "name": "iOS app"}
    )
    html = client.get(response["Location"]).content.decode()
    assert f"{PUBLIC}/api/v1/apps/{retail.application_id}" in html


# The checklist


def test_a_new_app_starts_with_nothing_done(shop):
    found = setup_status.status(shop)
    assert (found.done, len(found.steps), found.ready) == (0, 6, False)
    assert found.summary() == "0 of 6 steps"
    assert [line.text for line in steps(shop)["credentials"].lines] == ["not set"] * 3


def test_credentials_are_done_once_each_set_one_is_proved(sandbox, alice, retail):
    credentials = steps(retail)["credentials"]
    assert not credentials.done
    assert credentials.lines[0].text == "set, not proved yet: press Validate credentials"

    logged_in(alice).post(f"/devices/mobileapp/{retail.pk}/validate/")

    credentials = steps(MobileApp.objects.get(pk=retail.pk))["credentials"]
    assert credentials.done
    ios, android, windows = credentials.lines
    assert ios.text.startswith("proved valid by APNs on ")
    assert android.text.startswith("proved valid by FCM on ")
    assert windows.text == "not set"


def test_a_refused_credential_shows_the_providers_words(sandbox, alice, retail):
    ApnsCredential.objects.filter(app=retail).update(team_id="OTHERTEAM1")
    logged_in(alice).post(f"/devices/mobileapp/{retail.pk}/validate/")

    ios = steps(MobileApp.objects.get(pk=retail.pk))["credentials"].lines[0]
    assert ios.state == "failing"
    assert ios.text.startswith("APNs refused it: ") and "Provider" in ios.text


def test_the_client_key_step_wants_a_client_key_not_a_server_token(retail):
    issue_api_token(retail, "Backend")
    assert not steps(retail)["client_key"].done
    issue_api_token(retail, "iOS app", kind=TokenKind.CLIENT)
    assert steps(retail)["client_key"].done


def test_devices_and_users_are_counted_per_platform(retail):
    register(retail, "android")
    found = steps(retail)
    assert found["device"].done and not found["user"].done
    ios, android = found["device"].lines
    assert (ios.label, ios.text) == ("iOS", "no device yet")
    assert android.text.startswith("first registered on ")

    register(retail, "ios", user_id="crm-42")
    assert steps(retail)["user"].done


def test_a_sent_notification_and_a_reported_launch_finish_the_checklist(sandbox, retail):
    retail.apns_credential.record_validation(True, "ok")
    retail.fcm_credential.record_validation(True, "ok")
    issue_api_token(retail, "iOS app", kind=TokenKind.CLIENT)
    register(retail, "ios", user_id="crm-42")
    assert setup_status.status(retail).summary() == "4 of 6 steps"

    sent = send_one_notification(retail)
    assert steps(retail)["notification"].done and not steps(retail)["launches"].done
    launches.record(retail, launches.tracking_id(sent.pk))

    found = setup_status.status(retail)
    assert found.ready and found.summary() == "Ready"


def send_one_notification(app: MobileApp, platforms: tuple[str, ...] = ("ios",)) -> Delivery:
    """Send one notification to the app's devices, as a worker does; return a sent delivery."""
    set_sending_rules(app, min_interval_minutes=0)
    sale = Notification.objects.create(
        app=app,
        name="Sale",
        platforms=list(platforms),
        status=Status.SCHEDULED,
        send_at=timezone.now(),
        title_en="Half price",
    )
    delivery.start(sale.pk)
    send_due(sale)
    return Delivery.objects.get(notification=sale, sent_at__isnull=False)


def test_the_checklist_costs_few_queries(retail, django_assert_max_num_queries):
    app = MobileApp.objects.select_related("apns_credential", "fcm_credential", "wns_credential")
    app = app.get(pk=retail.pk)
    with django_assert_max_num_queries(5):
        setup_status.status(app)


def test_the_apps_list_says_which_apps_are_ready(alice, retail, shop):
    html = logged_in(alice).get("/devices/mobileapp/").content.decode()
    assert "Setup" in html
    assert html.count('<td class="field-setup">0 of 6 steps</td>') == 2


def test_the_status_endpoint_gives_the_checklist_for_the_poll(alice, retail):
    answer = logged_in(alice).get(f"/devices/mobileapp/{retail.pk}/setup-status/").json()
    assert (answer["ready"], answer["summary"]) == (False, "0 of 6 steps")
    assert "Provider credentials" in answer["html"]


def test_the_status_endpoint_is_only_for_the_apps_people(carol, news):
    response = logged_in(carol).get(f"/devices/mobileapp/{news.pk}/setup-status/")
    assert response.status_code == 404


def test_the_panel_escapes_what_the_provider_said(sandbox, alice, retail):
    retail.apns_credential.record_validation(False, "<script>alert(1)</script>")
    html = page(alice, retail)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# Save validates


def change_wns_secret(client, app: MobileApp, secret: str):
    data = read_form(
        client.get(f"/devices/mobileapp/{app.pk}/change/").content.decode(), "mobileapp_form"
    )
    data["wns_credential-0-client_secret"] = secret
    return client.post(f"/devices/mobileapp/{app.pk}/change/", data)


def test_saving_a_credential_queues_its_check_and_the_page_says_so(
    sandbox, alice, news, django_capture_on_commit_callbacks
):
    client = logged_in(alice)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = change_wns_secret(client, news, "a-new-secret")
    assert response.status_code == 302
    assert len(queued) == 1
    assert "Checking with WNS…" in page(alice, news)

    tasks.validate_credential(news.pk, "windows")

    stored = WnsCredential.objects.get(app=news)
    assert stored.validation_status == ValidationStatus.VALID
    html = page(alice, news)
    assert "Checking with WNS…" not in html and "proved valid by WNS on " in html


def test_a_saved_credential_the_provider_refuses_shows_its_words(
    sandbox, alice, news, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        change_wns_secret(logged_in(alice), news, "a-new-secret")
    # The gateway knows the saved secret; the database now holds another one.
    stored = WnsCredential.objects.get(app=news)
    stored.store_secret({"client_secret": "not-the-secret"})
    WnsCredential.objects.filter(pk=stored.pk).update(encrypted_secret=stored.encrypted_secret)

    tasks.validate_credential(news.pk, "windows")

    windows = steps(MobileApp.objects.get(pk=news.pk))["credentials"].lines[2]
    assert windows.state == "failing"
    assert windows.text.startswith("WNS refused it: ")
    assert "Azure AD refused a WNS token" in windows.text and "invalid_client" in windows.text


def test_saving_the_app_without_touching_a_credential_queues_no_check(
    alice, news, django_capture_on_commit_callbacks
):
    client = logged_in(alice)
    data = read_form(
        client.get(f"/devices/mobileapp/{news.pk}/change/").content.decode(), "mobileapp_form"
    )
    data["display_name"] = "News 2"
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert client.post(f"/devices/mobileapp/{news.pk}/change/", data).status_code == 302
    assert queued == []


def test_a_check_of_a_deleted_app_does_nothing(sandbox, news):
    pk = news.pk
    news.delete()
    tasks.validate_credential(pk, "windows")
    assert not sandbox.reached()


# Snippets


def test_the_snippets_carry_the_apps_ids_and_the_public_endpoint(alice, retail, retail_token):
    html = page(alice, retail)
    assert f"{PUBLIC}/api/v1/apps/{retail.application_id}/devices/$INSTALL_ID" in html
    assert f"{PUBLIC}/api/v1/apps/{retail.application_id}/launches" in html
    org = retail.organization.organization_id
    assert (
        f"{PUBLIC}/api/v1.0/orgs/{org}/pushchannel/apps/{retail.application_id}/devices/$USER_ID"
        in html
    )
    for language in ("Swift (iOS)", "Kotlin (Android)", "C# (Windows App SDK)"):
        assert language in html
    assert "CreateChannelAsync" in html
    assert "YOUR_CLIENT_KEY" in html
    assert retail_token not in html


def test_a_client_key_just_made_fills_the_snippets_once(alice, retail, retail_token):
    client = logged_in(alice)
    response = client.post(
        "/devices/apitoken/add/", {"app": retail.pk, "kind": "client", "name": "iOS app"}
    )
    created = client.get(response["Location"]).content.decode()
    key = created.split('id="api-token" class="api-token">')[1].split("<")[0]
    assert key.startswith("pc")

    first = client.get(f"/devices/mobileapp/{retail.pk}/change/").content.decode()
    assert f"CLIENT_KEY=&#x27;{key}&#x27;" in first
    assert f"clientKey = &quot;{key}&quot;" in first
    assert retail_token not in first
    again = client.get(f"/devices/mobileapp/{retail.pk}/change/").content.decode()
    assert key not in again


def test_a_server_token_just_made_never_reaches_the_snippets(alice, retail):
    client = logged_in(alice)
    response = client.post(
        "/devices/apitoken/add/", {"app": retail.pk, "kind": "server", "name": "Backend"}
    )
    created = client.get(response["Location"]).content.decode()
    token = created.split('id="api-token" class="api-token">')[1].split("<")[0]
    assert token not in client.get(f"/devices/mobileapp/{retail.pk}/change/").content.decode()

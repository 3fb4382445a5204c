"""An App administrator sets an app's provider credentials in the browser; secrets stay hidden."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from devices import sample_credentials
from devices.models import ApnsCredential, MobileApp, ProviderHealth
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

APNS = "#apns_credential-0"
SET_ON = re.compile(r"^set on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$")


def pem_body_lines(pem: bytes) -> list[str]:
    """The base64 lines of a PEM file: what must never come back in a page."""
    lines = [line.strip() for line in pem.decode().splitlines()]
    body = [line for line in lines if line and not line.startswith("-----")]
    assert body and all(len(line) >= 16 for line in body)
    return body


def open_app(page: Page, live_server, display_name: str) -> None:
    """Go to an app's page the way a person does: Mobile apps, then the app's name."""
    page.goto(f"{live_server.url}/")
    page.locator("#content-main").get_by_role("link", name="Mobile apps", exact=True).click()
    page.locator("#result_list").get_by_role("link", name=display_name, exact=True).click()
    expect(page.locator("h1")).to_have_text("Change mobile app")


def apns_field_error(page: Page, field: str):
    return page.locator(f"{APNS} .form-row.field-{field} .errorlist")


def test_app_administrator_creates_an_ios_app_with_a_p8_signing_key(
    page: Page, live_server, alice, organization, tmp_path: Path
):
    p8 = sample_credentials.p8_signing_key()
    key_file = tmp_path / "AuthKey_ABCDE12345.p8"
    key_file.write_bytes(p8)
    login(page, live_server, alice)

    page.locator("#content-main #devices-mobileapp ~ td a.addlink").click()
    expect(page.locator("h1")).to_have_text("Add mobile app")
    page.select_option("#id_organization", label="Contoso")
    page.fill("#id_name", "shop")
    page.fill("#id_display_name", "Contoso Shop")
    page.select_option("#id_apns_credential-0-auth_method", "token")
    page.fill("#id_apns_credential-0-key_id", "ABCDE12345")
    page.fill("#id_apns_credential-0-team_id", "TEAM123456")
    page.fill("#id_apns_credential-0-bundle_id", "com.contoso.shop")
    page.set_input_files("#id_apns_credential-0-signing_key", str(key_file))
    page.click("input[name=_save]")

    expect(page).to_have_url(f"{live_server.url}/devices/mobileapp/")
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    row = page.locator("#result_list tbody tr", has_text="Contoso Shop")
    expect(row.locator(".field-owner_and_name")).to_have_text("contoso/shop")
    expect(row.locator(".field-platform_list")).to_have_text("ios")

    open_app(page, live_server, "Contoso Shop")
    expect(page.locator("#id_apns_credential-0-auth_method")).to_have_value("token")
    expect(page.locator("#id_apns_credential-0-key_id")).to_have_value("ABCDE12345")
    expect(page.locator("#id_apns_credential-0-team_id")).to_have_value("TEAM123456")
    expect(page.locator("#id_apns_credential-0-bundle_id")).to_have_value("com.contoso.shop")
    expect(page.locator(f"{APNS} .field-secret_status .readonly")).to_have_text(SET_ON)
    expect(page.locator(f"{APNS} .field-validation .readonly")).to_have_text("unchecked")
    expect(page.locator("#id_apns_credential-0-signing_key")).to_have_value("")
    html = page.content()
    assert "PRIVATE KEY" not in html
    for line in pem_body_lines(p8):
        assert line not in html

    app = MobileApp.objects.get(organization=organization, name="shop")
    assert app.display_name == "Contoso Shop"
    assert app.platforms() == ["ios"]
    credential = ApnsCredential.objects.get(app=app)
    assert credential.auth_method == ApnsCredential.AuthMethod.TOKEN
    assert credential.read_secret() == {"signing_key": p8.decode()}
    assert p8.decode() not in credential.encrypted_secret


def test_wrong_p12_password_is_shown_at_the_certificate_and_stores_nothing(
    page: Page, live_server, alice, news, tmp_path: Path
):
    p12_file = tmp_path / "push.p12"
    p12_file.write_bytes(sample_credentials.p12_certificate("com.contoso.news", "right"))
    login(page, live_server, alice)

    open_app(page, live_server, "News")
    expect(page.locator(f"{APNS} .field-secret_status .readonly")).to_have_text("not set")
    page.select_option("#id_apns_credential-0-auth_method", "certificate")
    page.fill("#id_apns_credential-0-bundle_id", "com.contoso.news")
    page.set_input_files("#id_apns_credential-0-certificate", str(p12_file))
    page.fill("#id_apns_credential-0-certificate_password", "wrong")
    page.click("input[name=_save]")

    expect(page.locator(".errornote")).to_be_visible()
    expect(apns_field_error(page, "certificate")).to_contain_text(
        "does not open with this password"
    )
    expect(page.locator(f"{APNS} .errorlist")).to_have_count(1)
    expect(page.locator("#id_apns_credential-0-certificate_password")).to_have_value("")
    password_input = page.locator("#id_apns_credential-0-certificate_password")
    assert password_input.get_attribute("value") in (None, "")
    expect(page.locator(".messagelist .success")).to_have_count(0)

    assert not ApnsCredential.objects.filter(app=news).exists()
    news.refresh_from_db()
    assert news.platforms() == ["windows"]


def test_wrong_p12_password_leaves_the_stored_token_credential_unchanged(
    page: Page, live_server, alice, retail, tmp_path: Path
):
    before = ApnsCredential.objects.get(app=retail)
    p12_file = tmp_path / "push.p12"
    p12_file.write_bytes(sample_credentials.p12_certificate("com.contoso.retail", "right"))
    login(page, live_server, alice)

    open_app(page, live_server, "Retail")
    expect(page.locator(f"{APNS} .field-secret_status .readonly")).to_have_text(SET_ON)
    page.select_option("#id_apns_credential-0-auth_method", "certificate")
    page.set_input_files("#id_apns_credential-0-certificate", str(p12_file))
    page.fill("#id_apns_credential-0-certificate_password", "wrong")
    page.click("input[name=_save]")

    expect(page.locator(".errornote")).to_be_visible()
    expect(apns_field_error(page, "certificate")).to_contain_text(
        "does not open with this password"
    )
    expect(page.locator(f"{APNS} .errorlist")).to_have_count(1)

    after = ApnsCredential.objects.get(app=retail)
    assert after.pk == before.pk
    assert after.auth_method == ApnsCredential.AuthMethod.TOKEN
    assert (after.key_id, after.team_id, after.bundle_id) == (
        "ABCDE12345",
        "TEAM123456",
        "com.contoso.retail",
    )
    assert after.encrypted_secret == before.encrypted_secret
    assert after.secret_set_at == before.secret_set_at
    assert after.updated_at == before.updated_at
    assert after.certificate_subject == "" and after.certificate_expires_at is None


def test_app_administrator_sees_why_ios_is_held_and_lets_it_send_again(
    page: Page, live_server, alice, retail
):
    reason = (
        "APNs answered BadDeviceToken for 25 of 25 devices (400 BadDeviceToken); the APNs "
        "environment (Production or Sandbox) of the credential may not match the builds that "
        "registered these tokens."
    )
    ProviderHealth.objects.create(
        app=retail, platform="ios", suspended_at=timezone.now(), suspect_reason=reason
    )
    login(page, live_server, alice)
    open_app(page, live_server, "Retail")

    sending = page.locator(f"{APNS} .field-sending .readonly")
    expect(sending).to_contain_text("held since")
    expect(sending).to_contain_text("BadDeviceToken for 25 of 25 devices")
    sending.get_by_role("button", name="The credential is right: send now").click()

    expect(page.locator(".messagelist .success")).to_contain_text("APNs sends again")
    expect(page.locator(f"{APNS} .field-sending .readonly")).to_have_text("sending")
    health = ProviderHealth.objects.get(app=retail, platform="ios")
    assert health.suspended_at is None and health.trusted_until is not None

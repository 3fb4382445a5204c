"""An administrator validates an app's credentials; a marketer sends a test to one device."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import Notification
from devices.models import ValidationStatus
from devices.registration import register_device
from tests.e2e.conftest import login

pytest_plugins = ["tests.sandbox"]
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_administrator_validates_the_apps_credentials(
    page: Page, live_server, sandbox, alice, retail
):
    login(page, live_server, alice)
    page.goto(f"{live_server.url}/devices/mobileapp/{retail.pk}/change/")
    page.click("text=Validate credentials")

    messages = page.locator(".messagelist")
    expect(messages).to_contain_text("APNs: valid.")
    expect(messages).to_contain_text("FCM: valid.")
    retail.apns_credential.refresh_from_db()
    assert retail.apns_credential.validation_status == ValidationStatus.VALID


def test_marketer_sends_a_test_and_reads_the_providers_answer(
    page: Page, live_server, sandbox, bob, retail
):
    device, _ = register_device(
        retail, uuid.uuid4(), {"platform": "ios", "push_token": "dead" + "0" * 60}
    )
    notification = Notification.objects.create(
        app=retail, name="Sale", platforms=["ios"], title_en="Half price"
    )
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/{notification.pk}/change/")
    page.fill("#id_test_install_id", str(device.install_id))
    page.click("#test-send-button")

    expect(page.locator(".messagelist")).to_contain_text("device gone · HTTP 410 · Unregistered")

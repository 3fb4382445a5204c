"""A new app's setup checklist walks to Ready as its administrator and its first device do
their part, without reloading the page.

The credential check queued on save runs at once in the web server (Celery eager): the
providers are the sandbox gateways. The first notification is sent here as a worker would.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from campaigns import launches
from devices import sample_credentials
from devices.models import MobileApp
from pushcenter import celery_app
from tests.e2e.conftest import login
from tests.test_app_setup import send_one_notification

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
pytest_plugins = ["tests.sandbox"]

PANEL = "#setup-status"


@pytest.fixture
def checks_run_at_once():
    """Run queued tasks in the process that queues them, as no worker runs in this test."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def shop(organization) -> MobileApp:
    return MobileApp.objects.create(organization=organization, name="shop", display_name="Shop")


def step(page: Page, key: str):
    return page.locator(f'{PANEL} [data-step="{key}"]')


def test_a_new_app_walks_from_an_empty_checklist_to_ready(
    page: Page, live_server, sandbox, checks_run_at_once, alice, shop, tmp_path: Path
):
    login(page, live_server, alice)
    app_page = f"{live_server.url}/devices/mobileapp/{shop.pk}/change/"
    page.goto(app_page)
    expect(page.locator(f"{PANEL} .setup-summary")).to_have_text("0 of 6 steps")
    expect(page.locator(".field-public_endpoint .readonly")).to_have_text(re.compile(r"^https?://"))

    # The Android credential, proved by FCM when saved.
    account = tmp_path / "service-account.json"
    account.write_bytes(sample_credentials.service_account("contoso-shop"))
    page.set_input_files("#id_fcm_credential-0-service_account", str(account))
    page.click("input[name=_continue]")
    expect(step(page, "credentials")).to_have_class(re.compile("setup-done"))
    expect(step(page, "credentials")).to_contain_text("proved valid by FCM on")

    # A client key, made from the checklist's link; the snippets carry it once.
    step(page, "client_key").get_by_role("link", name="Make a client key").click()
    page.fill("#id_name", "Android app")
    page.click("input[name=_save]")
    key = page.locator("#api-token").inner_text()
    page.click("#setup-snippets-link")
    expect(page.locator("#setup-snippets")).to_contain_text(key)
    expect(page.locator(f"{PANEL} .setup-summary")).to_have_text("2 of 6 steps")

    # The app registers its device and sets its user through the API; the page follows.
    base = f"{live_server.url}/api/v1/apps/{shop.application_id}"
    headers = {"X-API-Token": key, "Content-Type": "application/json"}
    install = "8c3f0d7e-58a4-4f3b-9d56-1f0b2a9c7e11"
    device = {"platform": "android", "push_token": "android-token-00001"}
    answer = page.request.put(f"{base}/devices/{install}", data=device, headers=headers)
    assert answer.status == 201, answer.text()
    expect(step(page, "device")).to_contain_text("first registered on")
    answer = page.request.put(
        f"{base}/devices/{install}/user", data={"user_id": "crm-42"}, headers=headers
    )
    assert answer.ok, answer.text()
    expect(page.locator(f"{PANEL} .setup-summary")).to_have_text("4 of 6 steps")

    # A notification reaches it, and a tap on it opens the app.
    sent = send_one_notification(shop, platforms=("android",))
    answer = page.request.post(
        f"{base}/launches", data={"tracking_id": launches.tracking_id(sent.pk)}, headers=headers
    )
    assert answer.status == 201, answer.text()
    expect(page.locator(f"{PANEL} .setup-summary")).to_have_text("Ready")

    page.goto(f"{live_server.url}/devices/mobileapp/")
    row = page.locator("#result_list tbody tr", has_text="Shop")
    expect(row.locator(".field-setup")).to_have_text("Ready")

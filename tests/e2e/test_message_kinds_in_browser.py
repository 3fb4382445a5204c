"""A marketer composes a silent push: the composer hides what a silent push cannot carry, the
preview says what it does and shows the exact background payload."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import Notification, Status, Template
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_marketer_sends_a_silent_push_with_its_background_payload(
    page: Page, live_server, bob, retail
):
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/add/?app={retail.pk}")
    expect(page.locator("body")).to_contain_text("Apple throttles background pushes")
    page.click("text=Silent: data only")
    page.fill("#id_name", "Refresh the catalogue")
    expect(page.locator(".form-row.field-on_click")).to_be_hidden()
    page.fill("#id_custom_data", '{"sync": "catalogue"}')

    expect(page.locator("#preview-unseen")).to_contain_text("Nobody sees it")
    expect(page.locator("#preview-ios")).to_be_hidden()
    payload = page.locator("#payload-ios")
    expect(payload.locator("pre")).to_contain_text('"content-available": 1')
    expect(payload).to_contain_text("background")
    page.click("#schedule-button")
    expect(page.locator("#review-dialog")).to_contain_text("Silent: data only")
    page.click("#confirm-button")

    expect(page.locator(".messagelist")).to_contain_text("Refresh the catalogue is being sent")
    notification = Notification.objects.get()
    assert (notification.template, notification.status) == (Template.SILENT, Status.SCHEDULED)
    assert notification.custom_data == {"sync": "catalogue"}

"""A send through the Push API shows in the dashboard with its numbers."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from campaigns import tasks
from campaigns.models import Notification
from devices.registration import register_device
from metrics import rollup
from tests.conftest import set_sending_rules
from tests.e2e.conftest import login

pytest_plugins = ["tests.sandbox"]
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BROADCAST = {
    "notification_content": {
        "name": "First Push From App Center",
        "title": "Push From App Center",
        "body": "Hello! Isn't this an amazing notification message?",
        "custom_data": {"key1": "val1", "key2": "val2"},
    },
    "notification_target": None,
}


def test_a_push_api_send_appears_in_the_dashboard_with_its_numbers(
    page: Page, live_server, sandbox, bob, retail, retail_token
):
    set_sending_rules(retail, min_interval_minutes=0)
    for token in ("aa" * 32, "bb" * 32, "dead" + "0" * 60):
        register_device(retail, uuid.uuid4(), {"platform": "ios", "push_token": token})
    url = f"{live_server.url}/api/v0.1/apps/{retail.owner_name}/{retail.name}/push/notifications"

    answer = httpx.post(url, json=BROADCAST, headers={"X-API-Token": retail_token})

    assert answer.status_code == 202, answer.text
    notification = Notification.objects.get(pk=answer.json()["notification_id"])
    tasks.start_send.apply(args=[notification.pk])
    tasks.send_deliveries.apply(args=[notification.pk])
    rollup.refresh(notification)
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/?view=completed")
    row = page.locator("#result_list tbody tr", has_text="First Push From App Center")
    expect(row).to_contain_text("66.7%")

    row.locator("a").first.click()
    page.click("text=Metrics")

    expect(page.locator('tr[data-outcome="Sent"] .count')).to_have_text("2")
    expect(page.locator('tr[data-outcome="Failed"] .count')).to_have_text("1")
    expect(page.locator("#delivery-rate")).to_have_text("67%")

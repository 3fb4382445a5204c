"""A marketer sets a conversion goal in the composer, then reads conversions and revenue."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns import delivery
from campaigns import tasks as campaigns_tasks
from campaigns.models import Notification
from devices.registration import register_device
from metrics import tasks as metrics_tasks
from tests.conftest import send_due, set_sending_rules
from tests.e2e.conftest import login
from tests.test_device_api import api

pytest_plugins = ["tests.sandbox"]
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_goal_set_in_the_composer_shows_conversions_and_revenue_on_the_metrics_page(
    page: Page, live_server, sandbox, bob, retail, retail_token
):
    set_sending_rules(retail, min_interval_minutes=0)
    installs = [uuid.uuid4() for _ in range(4)]
    for install in installs:
        token = "ab" + uuid.uuid4().hex * 2
        register_device(retail, install, {"platform": "ios", "push_token": token})
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/add/?app={retail.pk}&template=standard")
    page.fill("#id_name", "Spring sale")
    page.fill("#id_title_en", "Half price")
    page.fill("#id_conversion_event", "purchase")
    page.fill("#id_conversion_window_minutes", "120")
    page.fill("#id_conversion_value_property", "revenue")
    page.click("#schedule-button")
    page.click("#confirm-button")
    expect(page.locator(".messagelist")).to_contain_text("Spring sale")

    sale = Notification.objects.get()
    assert (sale.conversion_event, sale.conversion_window_minutes) == ("purchase", 120)
    delivery.start(sale.pk)
    send_due(sale)
    delivery.finish_if_done(sale.pk)
    # Three of the four buy within the goal's two hours, one of them with no revenue.
    events = f"/api/v1/apps/{retail.application_id}/events"
    bought = [{"revenue": 19.99}, {"revenue": 5}, {}]
    for install, properties in zip(installs, bought, strict=False):
        body = {"name": "purchase", "install_ids": [str(install)], "properties": properties}
        body["timestamp"] = (timezone.now() + timedelta(seconds=1)).isoformat()
        assert api(retail_token).post(events, body, format="json").status_code == 202
    # A run reads the events the run before it saw.
    campaigns_tasks.count_conversions()
    campaigns_tasks.count_conversions()
    metrics_tasks.roll_up()

    page.goto(f"{live_server.url}/campaigns/notification/{sale.pk}/metrics/")
    expect(page.locator("#conversion-rate")).to_have_text("75.0%")
    expect(page.locator("#conversions")).to_have_text("3")
    expect(page.locator("#conversion-value")).to_have_text("24.99")
    expect(page.locator("#conversion-goal")).to_contain_text("purchase within 2 hours of sending")
    page.goto(f"{live_server.url}/campaigns/notification/")
    row = page.locator("#result_list tbody tr", has_text="Spring sale")
    expect(row.locator(".field-conversions")).to_have_text("3 (75.0%) · 24.99")

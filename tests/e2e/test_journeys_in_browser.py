"""A marketer builds a welcome journey in the dashboard, writes its message in the composer,
activates it, and reads what it sent."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from campaigns import delivery
from devices.registration import register_device
from journeys import events, runner
from journeys.models import Journey
from metrics import rollup
from tests.conftest import set_sending_rules
from tests.e2e.conftest import login

pytest_plugins = ["tests.sandbox"]
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_marketer_builds_activates_and_reads_a_welcome_journey(
    page: Page, live_server, sandbox, bob, retail
):
    set_sending_rules(retail, min_interval_minutes=0)
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/journeys/journey/add/")
    page.select_option("#id_app", label="contoso/retail")
    page.fill("#id_name", "Welcome series")
    page.select_option("#id_trigger", "first_registration")
    page.click("input[name=_save]")

    page.click("#add-step-button")
    expect(page.locator(".notification-part-of")).to_contain_text(
        "step 1 of the journey Welcome series"
    )
    expect(page.locator("#schedule-button")).to_have_count(0)
    page.fill("#id_title_en", "Welcome aboard")
    page.fill("#id_body_en", "Hi {{ user.id | default('there') }}")
    page.click("#draft-button")

    expect(page.locator("#journey-results")).to_contain_text("Welcome series · step 1")
    page.click("#activate-button")
    expect(page.locator(".messagelist")).to_contain_text("is active")
    expect(page.locator(".journey-status")).to_contain_text("Active")

    register_device(retail, uuid.uuid4(), {"platform": "ios", "push_token": "ab" * 32})
    for notification_id in runner.run():
        while ids := delivery.claim(notification_id):
            delivery.send_batch(ids)
    step = Journey.objects.get().steps.get().notification
    rollup.refresh(step)
    page.reload()

    row = page.locator("tr.journey-step")
    expect(row).to_contain_text("at once")
    expect(row.locator("td").nth(3)).to_have_text("1")
    expect(page.locator("#journey-results")).to_contain_text("completed: 1")
    assert [line["payload"]["aps"]["alert"]["body"] for line in sandbox.received("apns")] == [
        "Hi there"
    ]


def write_step(page: Page, title: str) -> None:
    page.click("#add-step-button")
    page.fill("#id_title_en", title)
    page.fill("#id_body_en", "Your cart is waiting")
    page.click("#draft-button")


def test_a_marketer_branches_a_journey_on_an_event_and_sees_it_drawn(
    page: Page, live_server, sandbox, bob, retail
):
    set_sending_rules(retail, min_interval_minutes=0)
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/journeys/journey/add/")
    page.select_option("#id_app", label="contoso/retail")
    page.fill("#id_name", "Abandoned cart")
    page.select_option("#id_trigger", "event")
    page.fill("#id_event_name", "cart_abandoned")
    page.fill("#id_exit_events", "unsubscribed")
    page.click("input[name=_save]")

    page.fill("#wait-event-name", "purchase")
    page.click("#add-wait-step-button")
    write_step(page, "Come back")
    write_step(page, "Thanks")
    page.select_option("#id_steps-0-then_way", "3")
    page.select_option("#id_steps-0-else_way", "2")
    page.select_option("#id_steps-1-then_way", "0")
    page.fill("#id_steps-2-wait_amount", "0")  # thank a buyer at once
    page.click("input[name=_continue]")

    drawing = page.locator("#journey-map")
    expect(drawing.locator("#journey-step-1")).to_contain_text("wait up to 3 days for the event")
    expect(drawing.locator("#journey-step-1")).to_contain_text("If the event came → step 3")
    expect(drawing.locator("#journey-step-1")).to_contain_text("Else, timed out → step 2")
    expect(drawing.locator("#journey-step-2")).to_contain_text("Then → the end")
    expect(drawing).to_contain_text("the event “unsubscribed” comes")

    page.click("#activate-button")
    expect(page.locator(".journey-status")).to_contain_text("Active")
    register_device(
        retail, uuid.uuid4(), {"platform": "ios", "push_token": "ab" * 32, "user_id": "ada"}
    )
    events.record(retail, "cart_abandoned", user_ids=["ada"])
    events.record(retail, "purchase", user_ids=["ada"])
    for notification_id in runner.run():
        while ids := delivery.claim(notification_id):
            delivery.send_batch(ids)
    page.reload()

    expect(page.locator("#journey-step-1 .journey-way-then")).to_contain_text("step 3 (1)")
    expect(page.locator("#journey-step-3")).to_contain_text("Reached")
    assert [line["payload"]["aps"]["alert"]["title"] for line in sandbox.received("apns")] == [
        "Thanks"
    ]

"""A marketer watches a send progress on the notification's page without reloading it."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns import delivery
from campaigns.models import Notification, Status
from devices.registration import register_device
from tests.conftest import set_sending_rules
from tests.e2e.conftest import login
from tests.waiting import wait_for

pytest_plugins = ["tests.sandbox"]
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_page_follows_the_send_to_its_end(page: Page, live_server, sandbox, bob, retail):
    for token in ("aa" * 32, "bb" * 32):
        register_device(retail, uuid.uuid4(), {"platform": "ios", "push_token": token})
    notification = Notification.objects.create(
        app=retail,
        name="Sale",
        platforms=["ios"],
        status=Status.SCHEDULED,
        send_at=timezone.now(),
        title_en="Half price",
    )
    delivery.start(notification.pk)
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/{notification.pk}/change/")
    expect(page.locator("[data-progress-url]")).to_have_text("Queued: 2")
    expect(page.locator(".field-status .readonly")).to_have_text("Sending")

    delivery.send_batch(delivery.claim(notification.pk))
    delivery.finish_if_done(notification.pk)

    expect(page.locator("[data-progress-url]")).to_have_text("Sent: 2")
    expect(page.locator(".field-status .readonly")).to_have_text("Completed")
    expect(page.locator(".notification-status strong")).to_have_text("Completed")


PAINTED_PIXELS = """(id) => {
    const canvas = document.getElementById(id);
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
    return painted;
}"""


def test_the_metrics_page_shows_the_counts_and_draws_its_charts(
    page: Page, live_server, sandbox, bob, retail, tmp_path
):
    set_sending_rules(retail, min_interval_minutes=0)
    for token in ("aa" * 32, "dead" + "0" * 60):
        register_device(retail, uuid.uuid4(), {"platform": "ios", "push_token": token})
    notification = Notification.objects.create(
        app=retail,
        name="Sale",
        platforms=["ios"],
        status=Status.SCHEDULED,
        send_at=timezone.now(),
        title_en="Half price",
    )
    delivery.start(notification.pk)
    delivery.send_batch(delivery.claim(notification.pk))
    delivery.finish_if_done(notification.pk)
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/{notification.pk}/change/")

    page.click("text=Metrics")

    expect(page.locator('tr[data-outcome="Sent"] .count')).to_have_text("1")
    expect(page.locator('tr[data-outcome="Failed"] .count')).to_have_text("1")
    expect(page.locator("#delivery-rate")).to_have_text("50%")
    # Polled from here: a predicate Playwright polls in the page is evaluated with eval, which
    # the page's Content Security Policy refuses.
    wait_for(
        lambda: page.evaluate(f"({PAINTED_PIXELS})('chart-timeline')") > 500,
        10,
        "the timeline chart painted",
    )
    shot = page.locator("#chart-platforms").screenshot(path=tmp_path / "platforms.png")
    assert len(shot) > 1000
    assert page.evaluate(PAINTED_PIXELS, "chart-platforms") > 500

"""A marketer watches a send progress on the notification's page without reloading it."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns import delivery
from campaigns.models import Notification, Status
from devices.registration import register_device
from tests.e2e.conftest import login

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

"""The notification's page reports how its send goes, and refreshes that while it sends."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from campaigns import delivery
from campaigns.models import Notification, Status
from devices.models import ProviderHealth
from devices.registration import register_device
from tests.conftest import logged_in


def sending(app, *tokens: str) -> Notification:
    for token in tokens:
        register_device(app, uuid.uuid4(), {"platform": "ios", "push_token": token})
    notification = Notification.objects.create(
        app=app,
        name="Sale",
        platforms=["ios"],
        status=Status.SCHEDULED,
        send_at=timezone.now(),
        title_en="Half price",
    )
    delivery.start(notification.pk)
    return notification


def test_the_progress_counts_deliveries_by_status(bob, retail):
    notification = sending(retail, "aa" * 32, "bb" * 32)

    report = logged_in(bob).get(f"/campaigns/notification/{notification.pk}/progress/").json()

    assert report["status"] == "sending" and report["live"] is True
    assert report["counts"] == {"queued": 2}
    assert report["text"] == "Queued: 2"


def test_the_page_carries_the_progress_and_its_address(bob, retail):
    notification = sending(retail, "aa" * 32)

    page = logged_in(bob).get(f"/campaigns/notification/{notification.pk}/change/")

    html = page.content.decode()
    assert f'data-progress-url="/campaigns/notification/{notification.pk}/progress/"' in html
    assert 'data-live="true"' in html and "Queued: 1" in html
    assert "campaigns/progress.js" in html


def test_a_paused_provider_is_named_with_its_last_error(bob, retail):
    notification = sending(retail, "aa" * 32)
    ProviderHealth.objects.create(
        app=retail,
        platform="ios",
        failures=3,
        paused_until=timezone.now() + timedelta(minutes=1),
        last_error="503 ServiceUnavailable",
    )

    report = logged_in(bob).get(f"/campaigns/notification/{notification.pk}/progress/").json()

    [paused] = report["paused"]
    assert paused.startswith("The iOS provider is paused until")
    assert paused.endswith("after 3 failed batches in a row: 503 ServiceUnavailable")


def test_an_app_administrator_may_read_it_and_a_stranger_may_not(alice, carol, news, retail):
    notification = sending(news, "aa" * 32)
    url = f"/campaigns/notification/{notification.pk}/progress/"

    assert logged_in(alice).get(url).status_code == 200
    assert logged_in(carol).get(url).status_code == 404

"""Retries as the providers document them, for as long as the notification lives; expired
Windows channels are not sent to.

The providers are the sandbox gateways, over real sockets.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from campaigns import delivery, progress
from campaigns.models import Delivery, DeliveryStatus, Notification, Status
from devices.models import Device, DeviceStatus
from devices.registration import register_device
from tests.conftest import send_due

pytest_plugins = ["tests.sandbox"]


def device(app, platform: str, **address) -> Device:
    return register_device(app, uuid.uuid4(), {"platform": platform, **address})[0]


def start(app, platforms: list[str], **fields) -> Notification:
    values = {
        "app": app,
        "name": "Sale",
        "platforms": platforms,
        "status": Status.SCHEDULED,
        "send_at": timezone.now(),
        "title_en": "Half price",
    }
    sale = Notification.objects.create(**{**values, **fields})
    delivery.start(sale.pk)
    return sale


def test_fcm_unavailable_without_retry_after_waits_at_least_a_minute(sandbox, no_caps):
    # FCM: retry UNAVAILABLE / INTERNAL / QUOTA_EXCEEDED without Retry-After no sooner than a
    # minute, then back off exponentially.
    device(no_caps, "android", push_token="fail-1")
    sale = start(no_caps, ["android"])
    before = timezone.now()

    send_due(sale)

    [row] = sale.deliveries.all()
    assert row.status == DeliveryStatus.QUEUED
    assert row.not_before - before >= timedelta(minutes=1)
    assert row.retrying_since is not None


def test_the_waits_double_with_each_try(sandbox, no_caps):
    device(no_caps, "android", push_token="fail-1")
    sale = start(no_caps, ["android"])
    waits = []
    for _ in range(3):
        Delivery.objects.filter(notification=sale).update(not_before=None)
        before = timezone.now()
        send_due(sale)
        waits.append(sale.deliveries.get().not_before - before)

    assert [w >= timedelta(minutes=m) for w, m in zip(waits, (1, 2, 4), strict=True)] == [True] * 3
    assert [t.attempt for t in sale.deliveries.get().tries.all()] == [1, 2, 3]


def test_retries_end_when_the_notification_expires(sandbox, no_caps):
    device(no_caps, "android", push_token="fail-1")
    sale = start(no_caps, ["android"], expires_at=timezone.now() + timedelta(seconds=30))

    send_due(sale)

    # The next try would come after the expiry: the provider may have it, so it is unknown.
    [row] = sale.deliveries.all()
    assert row.status == DeliveryStatus.UNKNOWN and row.reason.startswith("UNAVAILABLE")


def test_a_refused_credential_fails_when_its_window_closes(sandbox, no_caps, settings):
    device(no_caps, "android", push_token="other-1")
    sale = start(no_caps, ["android"])
    send_due(sale)
    window = timedelta(hours=settings.RETRY_WINDOW_HOURS)
    Delivery.objects.update(not_before=None, retrying_since=timezone.now() - window)

    send_due(sale)

    [row] = sale.deliveries.all()
    assert row.status == DeliveryStatus.FAILED and row.reason.startswith("SENDER_ID_MISMATCH")


def test_the_page_says_how_many_wait_to_try_again_and_why(sandbox, no_caps):
    device(no_caps, "android", push_token="fail-1")
    device(no_caps, "android", push_token="fail-2")
    sale = start(no_caps, ["android"])
    send_due(sale)

    report = progress.report(sale)

    assert report["retries"].startswith("Waiting to try again: 2, the next at ")
    assert "UNAVAILABLE The service is currently unavailable. (2)" in report["retries"]


def test_an_expired_windows_channel_is_not_sent_to(sandbox, news):
    # wns-push-quickstart.md: a channel URI lives 30 days; the app registers a new one.
    stale = device(news, "windows", channel_uri=sandbox.channel_uri("stale"))
    Device.objects.filter(pk=stale.pk).update(
        channel_expires_at=timezone.now() - timedelta(minutes=1)
    )
    fresh = device(news, "windows", channel_uri=sandbox.channel_uri("fresh"))
    sale = start(news, ["windows"], title_en="Hello")

    send_due(sale)

    statuses = {d.device_id: (d.status, d.reason) for d in sale.deliveries.all()}
    assert statuses[fresh.pk][0] == DeliveryStatus.SENT
    status, reason = statuses[stale.pk]
    assert status == DeliveryStatus.CHANNEL_EXPIRED and reason.startswith("ChannelExpired")
    assert [line["target"] for line in sandbox.received("wns")] == [fresh.channel_uri]
    stale.refresh_from_db()
    assert stale.status == DeviceStatus.CHANNEL_EXPIRED


def test_registering_again_renews_an_expired_channel(sandbox, news):
    stale = device(news, "windows", channel_uri=sandbox.channel_uri("stale"))
    Device.objects.filter(pk=stale.pk).update(
        channel_expires_at=timezone.now() - timedelta(minutes=1)
    )
    send_due(start(news, ["windows"], title_en="Hello"))

    register_device(
        news, stale.install_id, {"platform": "windows", "channel_uri": sandbox.channel_uri("new")}
    )
    send_due(start(news, ["windows"], title_en="Hello again"))

    assert [line["target"] for line in sandbox.received("wns")] == [sandbox.channel_uri("new")]

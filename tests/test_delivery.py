"""Sending: the audience becomes deliveries once each, batches are claimed, sent and recorded.

The providers are the sandbox gateways, over real sockets.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, PeriodicTask

from campaigns import delivery, services, tasks
from campaigns.launches import tracking_id
from campaigns.models import Delivery, DeliveryStatus, Notification, ScheduleKind, Status
from devices.models import DeviceStatus, ProviderHealth
from devices.registration import register_device
from pushcenter import sql
from tests.conftest import set_sending_rules

pytest_plugins = ["tests.sandbox"]


def ios(app, token: str, **fields):
    device, _ = register_device(
        app, uuid.uuid4(), {"platform": "ios", "push_token": token, **fields}
    )
    return device


@pytest.fixture
def scheduled(retail) -> Notification:
    return Notification.objects.create(
        app=retail,
        name="Sale",
        platforms=["ios", "android"],
        status=Status.SCHEDULED,
        send_at=timezone.now(),
        title_en="Half price",
        languages=["fr"],
        title_fr="Moitié prix",
    )


def statuses(notification) -> dict[str, str]:
    return {d.device.push_token: d.status for d in notification.deliveries.select_related("device")}


def test_starting_twice_makes_one_delivery_per_device(retail, scheduled):
    ios(retail, "aa" * 32)
    ios(retail, "bb" * 32)

    assert delivery.start(scheduled.pk)
    assert not delivery.start(scheduled.pk)
    assert delivery.fan_out(scheduled) == 0

    assert Delivery.objects.filter(notification=scheduled).count() == 2
    scheduled.refresh_from_db()
    assert scheduled.status == Status.SENDING


def test_a_large_fan_out_refreshes_the_planners_statistics(retail, scheduled, monkeypatch):
    """PostgreSQL plans a send's queries on statistics: after a fan-out that adds a large share of
    the deliveries, they are refreshed at once (pushcenter.sql.analyze_after_bulk_insert)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite plans without statistics of this kind")
    monkeypatch.setattr(sql, "ANALYZED_INSERT_ROWS", 3)
    for token in ("aa", "bb", "cc"):
        ios(retail, token * 32)

    assert delivery.start(scheduled.pk) == 3

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'campaigns_delivery'")
        assert cursor.fetchone()[0] == 3


def test_only_the_audience_gets_deliveries(retail, scheduled):
    ios(retail, "aa" * 32)
    ios(retail, "bb" * 32, push_enabled=False)
    retired = ios(retail, "cc" * 32)
    retired.status = DeviceStatus.TOKEN_INVALID
    retired.save()

    delivery.start(scheduled.pk)

    assert statuses(scheduled) == {"aa" * 32: "queued", "bb" * 32: "skipped"}
    opted_out = scheduled.deliveries.get(device__push_token="bb" * 32)
    assert opted_out.reason == "Opted out of notifications"


def test_a_claimed_batch_is_not_claimed_again_until_its_lease_runs_out(retail, scheduled):
    ios(retail, "aa" * 32)
    delivery.start(scheduled.pk)

    first = delivery.claim(scheduled.pk)
    assert len(first) == 1 and delivery.claim(scheduled.pk) == []

    Delivery.objects.filter(id__in=first).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert delivery.claim(scheduled.pk) == first


def test_a_send_reaches_each_device_in_its_language_and_completes(sandbox, retail, scheduled):
    ios(retail, "aa" * 32, locale="fr-FR")
    ios(retail, "bb" * 32, locale="en-US")

    tasks.start_send.apply(args=[scheduled.pk])  # here, in this process: the broker is not tested
    tasks.send_deliveries.apply(args=[scheduled.pk])

    assert statuses(scheduled) == {"aa" * 32: "sent", "bb" * 32: "sent"}
    titles = {
        line["target"]: line["payload"]["aps"]["alert"]["title"]
        for line in sandbox.received("apns")
    }
    assert titles == {"aa" * 32: "Moitié prix", "bb" * 32: "Half price"}
    languages = {d.device.push_token: d.language for d in scheduled.deliveries.all()}
    assert languages == {"aa" * 32: "fr", "bb" * 32: "en"}
    scheduled.refresh_from_db()
    assert scheduled.status == Status.COMPLETED
    sent = scheduled.deliveries.get(device__push_token="aa" * 32)
    [line] = [line for line in sandbox.received("apns") if line["target"] == "aa" * 32]
    assert line["payload"]["tracking_id"] == tracking_id(sent.pk)


def test_a_gone_token_fails_its_delivery_and_retires_the_device(sandbox, retail, scheduled):
    gone = ios(retail, "dead" + "0" * 60)

    delivery.start(scheduled.pk)
    delivery.send_batch(delivery.claim(scheduled.pk))

    [row] = scheduled.deliveries.all()
    assert row.status == DeliveryStatus.FAILED and row.reason.startswith("Unregistered")
    gone.refresh_from_db()
    assert gone.status == DeviceStatus.TOKEN_INVALID


def test_a_retryable_answer_queues_the_delivery_again_after_a_back_off(sandbox, retail, scheduled):
    ios(retail, "fa11" + "0" * 60)

    delivery.start(scheduled.pk)
    delivery.send_batch(delivery.claim(scheduled.pk))

    [row] = scheduled.deliveries.all()
    assert row.status == DeliveryStatus.QUEUED and row.not_before > timezone.now()
    assert delivery.claim(scheduled.pk) == []
    assert not delivery.finish_if_done(scheduled.pk)


def test_a_delivery_that_keeps_failing_ends_unknown_when_its_retry_window_closes(
    sandbox, retail, scheduled, settings
):
    ios(retail, "fa11" + "0" * 60)
    delivery.start(scheduled.pk)
    for _ in range(3):
        Delivery.objects.update(not_before=None)
        ProviderHealth.objects.update(paused_until=None)
        delivery.send_batch(delivery.claim(scheduled.pk))
    [row] = scheduled.deliveries.all()
    assert row.status == DeliveryStatus.QUEUED

    window = timedelta(hours=settings.RETRY_WINDOW_HOURS)
    Delivery.objects.update(not_before=None, retrying_since=timezone.now() - window)
    delivery.send_batch(delivery.claim(scheduled.pk))

    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.UNKNOWN, 4)
    assert row.reason.startswith("ServiceUnavailable")
    assert [t.attempt for t in row.tries.all()] == [1, 2, 3]
    assert delivery.finish_if_done(scheduled.pk)


def test_an_expired_notification_sends_nothing_more(sandbox, retail, scheduled):
    ios(retail, "aa" * 32)
    delivery.start(scheduled.pk)
    Notification.objects.filter(pk=scheduled.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    delivery.send_batch(delivery.claim(scheduled.pk))

    assert statuses(scheduled) == {"aa" * 32: "expired"}
    assert not [line for line in sandbox.received("apns") if line["target"] == "aa" * 32]


def test_a_notification_without_devices_completes(retail, scheduled):
    tasks.start_send.apply(args=[scheduled.pk])
    tasks.send_deliveries.apply(args=[scheduled.pk])

    scheduled.refresh_from_db()
    assert scheduled.status == Status.COMPLETED


def test_the_sweep_finds_due_notifications(retail, scheduled):
    later = Notification.objects.create(
        app=retail,
        name="Later",
        status=Status.SCHEDULED,
        send_at=timezone.now() + timedelta(hours=1),
    )

    due = delivery.due_notifications(timezone.now())

    assert scheduled.pk in due and later.pk not in due


def beat_tasks(notification) -> dict[str, tuple]:
    rows = PeriodicTask.objects.filter(name__startswith=f"notification {notification.pk}:")
    return {
        task.name.split(": ")[1]: (task.task, task.clocked.clocked_time, task.args) for task in rows
    }


def test_scheduling_at_a_time_gives_beat_a_one_off_send_and_expiry(retail):
    at, until = timezone.now() + timedelta(hours=2), timezone.now() + timedelta(days=1)
    notification = Notification(
        app=retail, name="Later", schedule_kind=ScheduleKind.AT, send_at=at, expires_at=until
    )
    services.save(notification, schedule=True)

    assert beat_tasks(notification) == {
        "send": ("campaigns.start_send", at, f"[{notification.pk}]"),
        "expire": ("campaigns.expire", until, f"[{notification.pk}]"),
    }
    assert PeriodicTask.objects.get(name=f"notification {notification.pk}: send").one_off


def test_rescheduling_replaces_the_beat_tasks_and_cancelling_removes_them(retail):
    notification = Notification(
        app=retail,
        name="Later",
        schedule_kind=ScheduleKind.AT,
        send_at=timezone.now() + timedelta(hours=2),
    )
    services.save(notification, schedule=True)
    notification.send_at = timezone.now() + timedelta(hours=3)
    services.save(notification, schedule=True)

    assert beat_tasks(notification)["send"][1] == notification.send_at
    assert ClockedSchedule.objects.count() == 1

    services.cancel(notification)
    assert beat_tasks(notification) == {}
    assert ClockedSchedule.objects.count() == 0


def test_a_draft_has_no_beat_tasks(retail):
    notification = Notification(
        app=retail,
        name="Later",
        schedule_kind=ScheduleKind.AT,
        send_at=timezone.now() + timedelta(hours=2),
    )
    services.save(notification, schedule=False)

    assert beat_tasks(notification) == {}


def test_expiry_before_the_send_expires_the_notification(retail, scheduled):
    tasks.expire.apply(args=[scheduled.pk])
    tasks.start_send.apply(args=[scheduled.pk])

    scheduled.refresh_from_db()
    assert scheduled.status == Status.EXPIRED
    assert not scheduled.deliveries.exists()


def sent_before(app, device, minutes: int) -> None:
    """Record that the device received another notification of the app that long ago."""
    earlier = Notification.objects.create(app=app, name="Earlier", status=Status.COMPLETED)
    Delivery.objects.create(
        notification=earlier,
        device=device,
        status=DeliveryStatus.SENT,
        sent_at=timezone.now() - timedelta(minutes=minutes),
    )


def send_all(notification) -> None:
    """Start the notification and send every batch that is due, here in this process."""
    delivery.start(notification.pk)
    while ids := delivery.claim(notification.pk):
        delivery.send_batch(ids)


def test_a_device_notified_within_the_interval_is_skipped_with_the_reason(
    sandbox, retail, scheduled
):
    recent, earlier = ios(retail, "aa" * 32), ios(retail, "bb" * 32)
    sent_before(retail, recent, minutes=10)
    sent_before(retail, earlier, minutes=40)

    send_all(scheduled)

    assert statuses(scheduled) == {"aa" * 32: "skipped", "bb" * 32: "sent"}
    skipped = scheduled.deliveries.get(status=DeliveryStatus.SKIPPED)
    assert skipped.reason == "Frequency cap: a notification less than 30 min ago"


def test_the_daily_maximum_skips_a_device_that_reached_it(sandbox, retail, scheduled):
    set_sending_rules(retail, min_interval_minutes=0, daily_maximum=2)
    busy, quiet = ios(retail, "aa" * 32), ios(retail, "bb" * 32)
    sent_before(retail, busy, minutes=60)
    sent_before(retail, busy, minutes=120)
    sent_before(retail, quiet, minutes=60)

    send_all(scheduled)

    assert statuses(scheduled) == {"aa" * 32: "skipped", "bb" * 32: "sent"}


def test_without_caps_every_device_is_sent(sandbox, retail, scheduled):
    set_sending_rules(retail, min_interval_minutes=0)
    device = ios(retail, "aa" * 32)
    sent_before(retail, device, minutes=1)

    send_all(scheduled)

    assert statuses(scheduled) == {"aa" * 32: "sent"}


def test_a_delivery_handed_to_the_provider_by_a_worker_that_died_is_never_sent_again(
    retail, scheduled
):
    ios(retail, "aa" * 32)
    delivery.start(scheduled.pk)
    [claimed] = delivery.claim(scheduled.pk)
    Delivery.objects.filter(id=claimed).update(
        status=DeliveryStatus.SENDING, lease_until=timezone.now() - timedelta(seconds=1)
    )

    assert delivery.claim(scheduled.pk) == []

    row = Delivery.objects.get(id=claimed)
    assert row.status == DeliveryStatus.UNKNOWN
    assert row.reason == "Its worker stopped after handing it to the provider; not sent again"
    assert delivery.finish_if_done(scheduled.pk)


@pytest.mark.parametrize(
    ("deliveries", "senders"), [(0, 1), (1, 1), (1000, 1), (1001, 2), (10**6, 8)]
)
def test_a_send_gets_one_sending_task_per_batch_up_to_the_setting(deliveries, senders):
    assert tasks.senders_for(deliveries) == senders

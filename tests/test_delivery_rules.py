"""The rules around a send: local times, quiet hours, skip reasons, paused providers.

The providers are the sandbox gateways, over real sockets.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns import delivery, local_time, services
from campaigns.models import (
    Delivery,
    DeliveryStatus,
    Kind,
    Notification,
    QuietHoursAction,
    ScheduleKind,
    SendingRules,
    Status,
)
from devices.models import ApnsCredential, ProviderHealth
from devices.registration import register_device
from tests.conftest import send_due, set_sending_rules

pytest_plugins = ["tests.sandbox"]


def device(app, platform: str, token: str, **fields):
    found, _ = register_device(
        app, uuid.uuid4(), {"platform": platform, "push_token": token, **fields}
    )
    return found


def notification(app, **fields) -> Notification:
    values = {
        "app": app,
        "name": "Sale",
        "platforms": ["ios", "android"],
        "status": Status.SCHEDULED,
        "send_at": timezone.now(),
        "title_en": "Half price",
    }
    return Notification.objects.create(**{**values, **fields})


def rows(sent: Notification) -> dict[str, tuple[str, str]]:
    return {
        d.device.push_token: (d.status, d.reason) for d in sent.deliveries.select_related("device")
    }


# Who is left out, and why -------------------------------------------------------------------


def test_filtered_devices_are_skipped_with_the_filter_that_left_them_out(no_caps):
    device(no_caps, "ios", "aa" * 32, locale="fr-FR", time_zone="Europe/Paris")
    device(no_caps, "ios", "bb" * 32, locale="de-DE", time_zone="Europe/Paris")
    device(no_caps, "ios", "cc" * 32, locale="fr-FR", time_zone="Asia/Tokyo")
    device(no_caps, "ios", "dd" * 32, locale="fr-FR", time_zone="Europe/Paris", categories=["x"])
    sale = notification(
        no_caps,
        filter_languages=["fr"],
        filter_time_zones=["Europe/Paris"],
        category="x",
    )

    delivery.start(sale.pk)

    assert rows(sale) == {
        "aa" * 32: ("skipped", "Not opted in to x"),
        "bb" * 32: ("skipped", "Not in fr"),
        "cc" * 32: ("skipped", "Not in the chosen time zones"),
        "dd" * 32: ("queued", ""),
    }


def test_the_composer_estimate_counts_only_those_who_will_receive_it(no_caps):
    from campaigns.audience import audience

    device(no_caps, "ios", "aa" * 32, locale="fr-FR")
    device(no_caps, "ios", "bb" * 32, locale="de-DE")
    device(no_caps, "ios", "cc" * 32, locale="fr-FR", push_enabled=False)

    assert audience(notification(no_caps, filter_languages=["fr"])).count() == 1


# Local time ---------------------------------------------------------------------------------


def test_a_local_time_send_waits_for_each_zone_and_zoneless_devices_use_the_app_zone(no_caps):
    set_sending_rules(no_caps, default_time_zone="America/New_York")
    device(no_caps, "ios", "aa" * 32, time_zone="Asia/Tokyo")
    device(no_caps, "ios", "bb" * 32, time_zone="Europe/Paris")
    device(no_caps, "ios", "cc" * 32)
    wall_clock = datetime(2031, 1, 15, 18, 0, tzinfo=UTC)  # 18:00 local, stored as if UTC
    local = Notification(
        app=no_caps,
        name="Evening",
        platforms=["ios"],
        schedule_kind=ScheduleKind.LOCAL,
        local_send_at=wall_clock,
        title_en="Evening",
    )
    services.save(local, schedule=True)

    assert local.send_at == datetime(2031, 1, 15, 4, 0, tzinfo=UTC)  # 18:00 in UTC+14
    delivery.start(local.pk)

    waits = {d.device.push_token: d.not_before for d in local.deliveries.select_related("device")}
    assert waits == {
        "aa" * 32: datetime(2031, 1, 15, 9, 0, tzinfo=UTC),
        "bb" * 32: datetime(2031, 1, 15, 17, 0, tzinfo=UTC),
        "cc" * 32: datetime(2031, 1, 15, 23, 0, tzinfo=UTC),
    }
    assert delivery.claim(local.pk) == []


def test_a_zone_whose_local_time_has_come_is_sent_at_once(sandbox, no_caps):
    device(no_caps, "ios", "aa" * 32, time_zone="Asia/Tokyo")
    device(no_caps, "ios", "bb" * 32, time_zone="America/Los_Angeles")
    now_in_tokyo = timezone.now().astimezone(local_time.zone_for("Asia/Tokyo", no_caps))
    wall_clock = now_in_tokyo.replace(tzinfo=UTC) - timedelta(minutes=1)
    local = notification(
        no_caps, schedule_kind=ScheduleKind.LOCAL, local_send_at=wall_clock, platforms=["ios"]
    )

    delivery.start(local.pk)
    send_due(local)

    assert rows(local)["aa" * 32][0] == "sent"
    assert rows(local)["bb" * 32][0] == "queued"
    assert [line["target"] for line in sandbox.received("apns")] == ["aa" * 32]


def test_an_unknown_zone_counts_as_the_app_default_zone(no_caps):
    zone = local_time.zone_for("Mars/Olympus_Mons", no_caps)
    assert str(zone) == "UTC"


# Quiet hours --------------------------------------------------------------------------------


def quiet(app, start: time, end: time, action: str = QuietHoursAction.DEFER):
    set_sending_rules(app, quiet_hours_start=start, quiet_hours_end=end, quiet_hours_action=action)


def around_now_in(zone_name: str, app) -> tuple[time, time]:
    """Quiet hours from an hour ago to an hour from now in that zone (never across midnight)."""
    local = timezone.now().astimezone(local_time.zone_for(zone_name, app))
    start = (local - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (local + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    return start, end


def test_quiet_hours_defer_a_device_to_their_end_without_costing_a_try(sandbox, no_caps):
    start, end = around_now_in("Europe/Paris", no_caps)
    quiet(no_caps, start, end)
    device(no_caps, "ios", "aa" * 32, time_zone="Europe/Paris")
    sale = notification(no_caps)

    delivery.start(sale.pk)
    send_due(sale)

    [row] = sale.deliveries.all()
    assert (row.status, row.reason, row.attempts) == ("queued", "Quiet hours", 0)
    paris = local_time.zone_for("Europe/Paris", no_caps)
    assert row.not_before.astimezone(paris).time() == end
    assert row.not_before > timezone.now()
    assert sandbox.received("apns") == []


def test_quiet_hours_can_skip_the_device_instead(sandbox, no_caps):
    start, end = around_now_in("UTC", no_caps)
    quiet(no_caps, start, end, QuietHoursAction.SKIP)
    device(no_caps, "ios", "aa" * 32)
    sale = notification(no_caps)

    delivery.start(sale.pk)
    send_due(sale)

    [row] = sale.deliveries.all()
    assert row.status == "skipped" and row.reason.startswith("Quiet hours (")


def test_quiet_hours_hold_only_in_zones_where_it_is_night(sandbox, no_caps):
    start, end = around_now_in("Asia/Tokyo", no_caps)
    quiet(no_caps, start, end, QuietHoursAction.SKIP)
    device(no_caps, "ios", "aa" * 32, time_zone="Asia/Tokyo")
    device(no_caps, "ios", "bb" * 32, time_zone="America/New_York")
    sale = notification(no_caps)

    delivery.start(sale.pk)
    send_due(sale)

    assert rows(sale)["aa" * 32][0] == "skipped"
    assert rows(sale)["bb" * 32][0] == "sent"


@pytest.mark.parametrize(
    ("clock", "expected_end"),
    [
        ("23:30", datetime(2031, 1, 16, 7, 0, tzinfo=UTC)),
        ("06:00", datetime(2031, 1, 16, 7, 0, tzinfo=UTC)),
        ("12:00", None),
        ("22:00", datetime(2031, 1, 16, 7, 0, tzinfo=UTC)),
        ("08:00", None),
    ],
)
def test_overnight_quiet_hours_end_the_next_morning(retail, clock, expected_end):
    quiet(retail, time(22, 0), time(8, 0))
    paris = local_time.zone_for("Europe/Paris", retail)
    day = 15 if clock >= "12:00" else 16
    now = datetime(2031, 1, day, *map(int, clock.split(":")), tzinfo=paris)

    assert local_time.quiet_until(retail, paris, now) == expected_end


def test_quiet_hours_need_both_ends_that_differ(retail):
    rules = SendingRules(app=retail, quiet_hours_start=time(22, 0))
    with pytest.raises(ValidationError) as error:
        rules.full_clean()
    assert "quiet_hours_end" in error.value.message_dict
    rules.quiet_hours_end = time(22, 0)
    with pytest.raises(ValidationError) as error:
        rules.full_clean()
    assert "quiet_hours_end" in error.value.message_dict


def test_an_app_without_sending_rules_follows_the_defaults(retail):
    rules = SendingRules.of(retail)
    assert rules.pk is None
    assert (rules.min_interval_minutes, rules.daily_maximum) == (30, None)
    assert (rules.default_time_zone, rules.quiet_hours_start, rules.quiet_hours_end) == (
        "UTC",
        None,
        None,
    )
    assert rules.quiet_hours_action == QuietHoursAction.DEFER


# Transactional sends ------------------------------------------------------------------------


def sent_now(app, **fields) -> Notification:
    """Send a notification to the app's devices at once, as a worker would."""
    sent = notification(app, **fields)
    delivery.start(sent.pk)
    send_due(sent)
    return sent


def test_a_transactional_send_reaches_a_device_a_marketing_send_just_reached(sandbox, retail):
    set_sending_rules(retail, min_interval_minutes=30, daily_maximum=1)
    device(retail, "ios", "aa" * 32)
    sent_now(retail)

    shipped = sent_now(retail, name="Order shipped", kind=Kind.TRANSACTIONAL)
    sale = sent_now(retail, name="Another sale")

    assert rows(shipped)["aa" * 32] == ("sent", "")
    assert rows(sale)["aa" * 32][0] == "skipped"
    assert rows(sale)["aa" * 32][1].startswith("Frequency cap")


def test_a_transactional_send_does_not_count_toward_the_next_marketing_cap(sandbox, retail):
    set_sending_rules(retail, min_interval_minutes=30, daily_maximum=1)
    device(retail, "ios", "aa" * 32)
    sent_now(retail, name="Sign-in code", kind=Kind.TRANSACTIONAL)

    sale = sent_now(retail)

    assert rows(sale)["aa" * 32] == ("sent", "")


@pytest.mark.parametrize("action", [QuietHoursAction.DEFER, QuietHoursAction.SKIP])
def test_a_transactional_send_during_quiet_hours_goes_now(sandbox, no_caps, action):
    start, end = around_now_in("Europe/Paris", no_caps)
    quiet(no_caps, start, end, action)
    device(no_caps, "ios", "aa" * 32, time_zone="Europe/Paris")

    alert = sent_now(no_caps, name="New sign-in", kind=Kind.TRANSACTIONAL)

    assert rows(alert)["aa" * 32] == ("sent", "")
    assert len(sandbox.received("apns")) == 1


def test_opt_outs_and_categories_still_apply_to_transactional_sends(sandbox, retail):
    device(retail, "ios", "aa" * 32, push_enabled=False)
    device(retail, "ios", "bb" * 32)
    device(retail, "ios", "cc" * 32, categories=["orders"])

    shipped = sent_now(retail, kind=Kind.TRANSACTIONAL, category="orders")

    assert rows(shipped)["aa" * 32][0] == "skipped"
    assert rows(shipped)["bb" * 32] == ("skipped", "Not opted in to orders")
    assert rows(shipped)["cc" * 32] == ("sent", "")


# Providers that keep failing ----------------------------------------------------------------


def test_a_provider_that_keeps_failing_pauses_while_the_others_go_on(sandbox, no_caps):
    for n in range(15):
        device(no_caps, "ios", f"fa11{n:060d}")
    device(no_caps, "android", "android-token-1")
    sale = notification(no_caps)
    delivery.start(sale.pk)

    for _ in range(4):  # five devices a batch: each batch fails as a whole
        Delivery.objects.filter(notification=sale).update(not_before=None)
        delivery.send_batch(delivery.claim(sale.pk, size=5))

    health = ProviderHealth.objects.get(app=no_caps, platform="ios")
    assert health.failures == 3 and health.paused_until > timezone.now()
    assert "503" in health.last_error
    paused = Delivery.objects.filter(notification=sale, reason__startswith="Paused:")
    assert paused.exists() and all(d.not_before == health.paused_until for d in paused)
    send_due(sale)
    assert rows(sale)["android-token-1"][0] == "sent"


def test_one_device_that_keeps_failing_never_pauses_its_provider(sandbox, no_caps):
    device(no_caps, "ios", "fa11" + "0" * 60)
    sale = notification(no_caps)
    delivery.start(sale.pk)

    for _ in range(4):
        Delivery.objects.filter(notification=sale).update(not_before=None)
        delivery.send_batch(delivery.claim(sale.pk))

    assert not ProviderHealth.objects.filter(app=no_caps, failures__gt=0).exists()


def test_a_refused_credential_pauses_its_provider_even_for_one_device(sandbox, no_caps):
    device(no_caps, "ios", "aa" * 32)
    sale = notification(no_caps)
    delivery.start(sale.pk)
    # Changed behind the gateway's back, which knows no such team: InvalidProviderToken.
    ApnsCredential.objects.filter(app=no_caps).update(team_id="OTHERTEAM1")

    for _ in range(3):
        Delivery.objects.filter(notification=sale).update(not_before=None)
        delivery.send_batch(delivery.claim(sale.pk))

    health = ProviderHealth.objects.get(app=no_caps, platform="ios")
    assert health.paused_until > timezone.now()
    assert "InvalidProviderToken" in health.last_error


def test_one_batch_that_gets_through_resumes_the_provider(sandbox, no_caps):
    ProviderHealth.objects.create(app=no_caps, platform="ios", failures=2)
    device(no_caps, "ios", "aa" * 32)
    sale = notification(no_caps)

    delivery.start(sale.pk)
    send_due(sale)

    assert ProviderHealth.objects.get(app=no_caps, platform="ios").failures == 0


# What reaches the device --------------------------------------------------------------------


def test_no_collapse_id_is_sent_unless_the_marketer_sets_one(sandbox, no_caps):
    # FCM keeps at most four collapse keys per device: a default one per campaign would make an
    # offline device lose older campaigns ("Non-collapsible and collapsible messages").
    device(no_caps, "ios", "aa" * 32)
    device(no_caps, "android", "android-token-1")
    plain, replacing = notification(no_caps), notification(no_caps, collapse_id="score")

    for sale in (plain, replacing):
        delivery.start(sale.pk)
        send_due(sale)

    first, second = sandbox.received("apns")
    assert "apns-collapse-id" not in first["headers"]
    assert second["headers"]["apns-collapse-id"] == "score"
    first, second = sandbox.received("fcm")
    assert "collapse_key" not in first["payload"]["message"]["android"]
    assert second["payload"]["message"]["android"]["collapse_key"] == "score"


def test_the_platform_is_kept_on_each_delivery(no_caps):
    device(no_caps, "ios", "aa" * 32)
    device(no_caps, "android", "android-token-1")
    sale = notification(no_caps)

    delivery.start(sale.pk)

    assert sorted(sale.deliveries.values_list("platform", flat=True)) == ["android", "ios"]


def test_a_notification_whose_every_device_is_skipped_completes(no_caps):
    device(no_caps, "ios", "aa" * 32, push_enabled=False)
    sale = notification(no_caps)

    delivery.start(sale.pk)
    delivery.finish_if_done(sale.pk)

    sale.refresh_from_db()
    assert sale.status == Status.COMPLETED
    assert rows(sale) == {"aa" * 32: (DeliveryStatus.SKIPPED, "Opted out of notifications")}


def test_a_local_time_already_come_in_some_zones_starts_without_waiting_for_beat(
    no_caps, django_capture_on_commit_callbacks
):
    wall_clock = timezone.now().replace(tzinfo=UTC) + timedelta(hours=2)  # 2 h ahead of UTC
    local = Notification(
        app=no_caps,
        name="Soon",
        platforms=["ios"],
        schedule_kind=ScheduleKind.LOCAL,
        local_send_at=wall_clock,
        title_en="Soon",
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.save(local, schedule=True)

    assert local.send_at <= timezone.now()
    assert len(callbacks) == 1


def test_deliveries_to_a_provider_whose_credential_was_removed_wait_to_be_tried_again(
    sandbox, no_caps
):
    device(no_caps, "android", "android-token-1")
    sale = notification(no_caps)
    delivery.start(sale.pk)
    no_caps.fcm_credential.delete()
    no_caps.refresh_from_db()

    send_due(sale)

    [row] = sale.deliveries.all()
    assert (row.status, row.attempts) == ("queued", 1)
    assert "no FCM credentials" in row.reason
    assert row.not_before > timezone.now()

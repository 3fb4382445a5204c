"""Who a notification reaches: its customer group and filters, counted as the composer shows it."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from campaigns import audience
from campaigns.models import Delivery, DeliveryStatus, Kind, Notification
from devices.models import Device, DeviceStatus
from devices.registration import register_device
from segments.models import Segment
from tests.conftest import logged_in, set_sending_rules
from tests.notification_forms import PREVIEW, form_data, schedule
from tests.test_delivery_rules import around_now_in


def install(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def add_device(app, n: int, platform: str = "ios", **registration: object) -> None:
    address = (
        {"channel_uri": f"https://wns.example.com/?token={n}"}
        if platform == "windows"
        else {"push_token": f"{n:064x}"}
    )
    register_device(app, install(n), {"platform": platform, **address, **registration})


def estimate(user, app, **fields: object) -> dict:
    """Ask the composer's preview for the audience; return its count and the form's errors."""
    result = logged_in(user).post(PREVIEW, form_data(app, **fields)).json()
    return {"count": result["estimate"]["count"], "errors": result["errors"]}


def count(user, app, **fields: object) -> int:
    result = estimate(user, app, **fields)
    assert result["errors"] == {}
    return result["count"]


def test_everyone_is_every_active_opted_in_device_of_the_chosen_platforms(bob, retail, news):
    add_device(retail, 1, "ios")
    add_device(retail, 2, "android")
    add_device(retail, 3, "ios", push_enabled=False)
    add_device(retail, 4, "android")
    Device.objects.filter(install_id=install(4)).update(status=DeviceStatus.TOKEN_INVALID)
    add_device(news, 5, "windows")
    assert count(bob, retail) == 2
    assert count(bob, retail, platforms=["android"]) == 1


def test_segments_reach_their_union_counting_a_device_once(bob, retail):
    add_device(retail, 1, properties={"carrierCountry": "US", "appVersion": "2.0"})
    add_device(retail, 2, properties={"carrierCountry": "US", "appVersion": "1.0"})
    add_device(retail, 3, properties={"carrierCountry": "FR", "appVersion": "2.0"})
    add_device(retail, 4, properties={"carrierCountry": "FR", "appVersion": "1.0"})
    us = Segment.objects.create(app=retail, name="us", definition="carrierCountry eq 'US'")
    new = Segment.objects.create(app=retail, name="new", definition="appVersion ge '2.0'")
    assert count(bob, retail, target_kind="segments", segments=[us.pk, new.pk]) == 3


def test_a_saved_notification_reaches_its_stored_segments(bob, retail):
    add_device(retail, 1, properties={"carrierCountry": "US"})
    add_device(retail, 2, properties={"carrierCountry": "FR"})
    us = Segment.objects.create(app=retail, name="us", definition="carrierCountry eq 'US'")
    schedule(logged_in(bob), form_data(retail, target_kind="segments", segments=[us.pk]))
    reached = audience.audience(Notification.objects.get())
    assert list(reached.values_list("install_id", flat=True)) == [install(1)]


def test_segments_of_another_app_are_refused(bob, retail, news):
    other = Segment.objects.create(app=news, name="all", definition="exists(locale)")
    result = estimate(bob, retail, target_kind="segments", segments=[other.pk])
    assert result["errors"]["segments"] == ["Choose segments of contoso/retail."]
    assert result["count"] is None


def test_the_segment_target_needs_a_segment(bob, retail):
    result = estimate(bob, retail, target_kind="segments")
    assert result["errors"]["segments"] == ["Choose at least one segment, or target everyone."]


def test_install_ids_reach_those_installs(bob, retail):
    for n in (1, 2, 3):
        add_device(retail, n)
    ids = f"{install(1)}\n{str(install(3)).upper()}, {install(3)}"
    assert count(bob, retail, target_kind="install_ids", install_ids=ids) == 2


def test_an_install_id_that_is_not_a_uuid_is_refused_naming_the_entry(bob, retail):
    result = estimate(bob, retail, target_kind="install_ids", install_ids=f"{install(1)}\nnope")
    assert result["errors"]["install_ids"] == [
        "Entry 2 ('nope') is not an install ID; install IDs are UUIDs."
    ]


def test_user_ids_reach_every_device_of_each_user(bob, retail):
    add_device(retail, 1, "ios", user_id="ann")
    add_device(retail, 2, "android", user_id="ann")
    add_device(retail, 3, "ios", user_id="ben")
    add_device(retail, 4, "ios", user_id="cat")
    assert count(bob, retail, target_kind="user_ids", user_ids="ann\n ben \n") == 3


def test_the_language_filter_keeps_devices_speaking_it(bob, retail):
    add_device(retail, 1, locale="fr-FR")
    add_device(retail, 2, locale="fr-CA")
    add_device(retail, 3, locale="en-US")
    add_device(retail, 4)
    assert count(bob, retail, filter_languages="FR") == 2
    assert count(bob, retail, filter_languages="fr, en") == 3


def test_a_language_filter_that_is_no_language_code_is_refused(bob, retail):
    result = estimate(bob, retail, filter_languages="french")
    assert result["errors"]["filter_languages"] == [
        "'french' is not a language code such as fr or de."
    ]


def test_the_time_zone_filter_keeps_devices_in_those_zones(bob, retail):
    add_device(retail, 1, time_zone="Europe/Paris")
    add_device(retail, 2, time_zone="America/New_York")
    add_device(retail, 3, time_zone="Asia/Tokyo")
    zones = "Europe/Paris\nAmerica/New_York"
    assert count(bob, retail, filter_time_zones=zones) == 2


def test_an_unknown_time_zone_is_refused(bob, retail):
    result = estimate(bob, retail, filter_time_zones="Europe/Paris, Mars/Olympus")
    assert result["errors"]["filter_time_zones"] == [
        "'Mars/Olympus' is not an IANA time zone such as Europe/Paris."
    ]
    assert result["count"] is None


def test_a_category_keeps_only_devices_that_opted_into_it(bob, retail):
    add_device(retail, 1, categories=["sports", "news"])
    add_device(retail, 2, categories=["news"])
    add_device(retail, 3, categories=["sportswear"])
    add_device(retail, 4)
    assert count(bob, retail, category="sports") == 1


def test_filters_narrow_a_target(bob, retail):
    add_device(retail, 1, user_id="ann", locale="fr-FR")
    add_device(retail, 2, user_id="ann", locale="en-GB")
    add_device(retail, 3, user_id="ben", locale="fr-FR")
    assert count(bob, retail, target_kind="user_ids", user_ids="ann", filter_languages="fr") == 1


# Prompt for update: devices below the latest version


@pytest.fixture
def versions(retail):
    for n, version in enumerate(["1.9", "1.10", "2.0", "2.1", ""], start=1):
        add_device(retail, n, properties={"appVersion": version} if version else {})


def test_outdated_reaches_devices_below_the_apps_latest_version(bob, retail, versions):
    retail.latest_version = "2.0"
    retail.save()
    assert count(bob, retail, target_kind="outdated") == 2


def test_outdated_reaches_devices_below_the_highest_version_seen(bob, retail, versions):
    assert count(bob, retail, target_kind="outdated") == 3


def test_outdated_ignores_the_version_of_a_retired_device(bob, retail, versions):
    add_device(retail, 9, properties={"appVersion": "9.0"})
    Device.objects.filter(install_id=install(9)).update(status=DeviceStatus.UNREGISTERED)
    assert count(bob, retail, target_kind="outdated") == 3


def test_outdated_needs_a_known_version(bob, retail):
    add_device(retail, 1)
    result = estimate(bob, retail, target_kind="outdated")
    assert result["errors"]["target_kind"] == [
        "No device reports an app version yet; set the latest version on the app page."
    ]


def test_a_saved_notification_keeps_its_ids_and_filters(bob, retail):
    add_device(retail, 1, user_id="ann", locale="fr-FR", time_zone="Europe/Paris")
    add_device(retail, 2, user_id="ann", locale="fr-FR", time_zone="America/Toronto")
    data = form_data(
        retail,
        target_kind="user_ids",
        user_ids="ann",
        filter_languages="fr",
        filter_time_zones="Europe/Paris",
    )
    assert schedule(logged_in(bob), data).status_code == 302
    stored = Notification.objects.get()
    assert (stored.user_ids, stored.filter_languages, stored.filter_time_zones) == (
        ["ann"],
        ["fr"],
        ["Europe/Paris"],
    )
    assert list(audience.audience(stored).values_list("install_id", flat=True)) == [install(1)]


# What the sending rules would hold back were it sent now


def test_the_estimate_says_how_many_caps_and_quiet_hours_would_hold_back(bob, retail):
    start, end = around_now_in("Asia/Tokyo", retail)
    set_sending_rules(retail, min_interval_minutes=30, quiet_hours_start=start, quiet_hours_end=end)
    for n, zone in ((1, "UTC"), (2, "UTC"), (3, "Asia/Tokyo"), (4, "UTC")):
        add_device(retail, n, time_zone=zone)
    sent_just_now(retail, install(1), Kind.MARKETING)
    sent_just_now(retail, install(2), Kind.TRANSACTIONAL)

    marketing = logged_in(bob).post(PREVIEW, form_data(retail)).json()["estimate"]
    transactional = logged_in(bob).post(PREVIEW, form_data(retail, kind="transactional"))

    assert marketing == {"count": 4, "held_back": 2}  # 1 inside the cap, 3 in its quiet hours
    assert transactional.json()["estimate"] == {"count": 4, "held_back": 0}


def sent_just_now(app, install_id: uuid.UUID, kind: str) -> None:
    earlier = Notification.objects.create(app=app, name="Earlier", kind=kind)
    device = Device.objects.get(install_id=install_id)
    Delivery.objects.create(
        notification=earlier, device=device, status=DeliveryStatus.SENT, sent_at=timezone.now()
    )

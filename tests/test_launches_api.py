"""Launch tracking: an app reports the tracking id its payload carried, once per delivery."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from campaigns import statistics
from campaigns.launches import tracking_id
from campaigns.models import Delivery, DeliveryStatus, Notification, Status
from devices.registration import register_device
from tests.test_device_api import api


def launches_url(app) -> str:
    return f"/api/v1/apps/{app.application_id}/launches"


def delivery_of(app, status: str = DeliveryStatus.SENT) -> Delivery:
    platform = "windows" if app.name == "news" else "ios"
    address = (
        {"channel_uri": "https://db5.notify.windows.com/?token=AwYAAAB"}
        if platform == "windows"
        else {"push_token": "ab" * 32}
    )
    device, _ = register_device(app, uuid.uuid4(), {"platform": platform, **address})
    notification = Notification.objects.create(
        app=app, name="Sale", platforms=[platform], status=Status.COMPLETED, title_en="Sale"
    )
    return Delivery.objects.create(
        notification=notification, device=device, platform=platform, status=status
    )


def post(token: str, app, tracking_id: object):
    return api(token).post(launches_url(app), {"tracking_id": tracking_id}, format="json")


def test_a_launch_is_recorded_once_and_a_repeat_changes_nothing(retail, retail_token):
    delivery = delivery_of(retail)

    first = post(retail_token, retail, tracking_id(delivery.pk))
    assert first.status_code == 201, first.json()
    assert first.json()["new"] is True
    assert first.json()["notification_id"] == str(delivery.notification_id)
    delivery.refresh_from_db()
    launched_at = delivery.launched_at
    assert launched_at is not None

    again = post(retail_token, retail, tracking_id(delivery.pk))
    assert again.status_code == 200 and again.json()["new"] is False
    delivery.refresh_from_db()
    assert delivery.launched_at == launched_at


def test_an_unknown_status_delivery_may_have_arrived_so_its_launch_counts(retail, retail_token):
    delivery = delivery_of(retail, DeliveryStatus.UNKNOWN)
    assert post(retail_token, retail, tracking_id(delivery.pk)).status_code == 201


def test_another_apps_tracking_id_is_not_found_and_changes_nothing(
    retail, retail_token, news, news_token
):
    theirs = delivery_of(retail)

    response = post(news_token, news, tracking_id(theirs.pk))

    assert response.status_code == 404
    assert response.json()["error"]["field"] == "tracking_id"
    theirs.refresh_from_db()
    assert theirs.launched_at is None


@pytest.mark.parametrize(
    "status", [DeliveryStatus.QUEUED, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED]
)
def test_a_delivery_that_was_never_sent_has_no_launch(retail, retail_token, status):
    delivery = delivery_of(retail, status)

    response = post(retail_token, retail, tracking_id(delivery.pk))

    assert response.status_code == 404
    assert response.json()["error"]["field"] == "tracking_id"
    delivery.refresh_from_db()
    assert delivery.launched_at is None


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        ("zz", 400),
        ("1F", 400),
        ("1f\n", 400),
        ("", 400),
        (" 1", 400),
        ("f" * 16, 400),
        ("f" * 17 + "A" * 16, 400),
        ("1" + "A" * 16, 404),
        ("f" * 16 + "A" * 16, 404),
        (42, 400),
        (None, 400),
    ],
)
def test_a_malformed_or_unknown_tracking_id_is_refused_by_name(retail, retail_token, sent, code):
    delivery_of(retail)

    response = post(retail_token, retail, sent)

    assert response.status_code == code, response.json()
    assert response.json()["error"]["field"] == "tracking_id"
    assert not Delivery.objects.filter(launched_at__isnull=False).exists()


def test_a_body_without_tracking_id_names_it(retail, retail_token):
    response = api(retail_token).post(launches_url(retail), {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "tracking_id"


def test_the_path_must_name_the_tokens_app(retail, retail_token, news):
    delivery = delivery_of(retail)
    response = post(retail_token, news, tracking_id(delivery.pk))
    assert response.status_code == 404
    assert api("nope").post(launches_url(retail), {}, format="json").status_code == 401


def test_launches_count_in_the_statistics(retail, retail_token):
    delivery = delivery_of(retail)
    post(retail_token, retail, tracking_id(delivery.pk))
    post(retail_token, retail, tracking_id(delivery.pk))
    summary = statistics.summary(delivery.notification)
    assert (summary["launches"], summary["launch_rate"]) == (1, 1.0)
    assert delivery.notification.deliveries.get().launched_at <= timezone.now()


def test_a_notification_without_launch_tracking_takes_no_launch(retail, retail_token):
    delivery = delivery_of(retail)
    Notification.objects.filter(pk=delivery.notification_id).update(track_launches=False)

    response = post(retail_token, retail, tracking_id(delivery.pk))

    assert response.status_code == 404
    delivery.refresh_from_db()
    assert delivery.launched_at is None

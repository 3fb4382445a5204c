"""Test sends: a notification or a test message to one device now, the answer shown as it came.

The providers are the sandbox gateways, over real sockets.
"""

from __future__ import annotations

import uuid

import pytest

from campaigns.models import Notification, Status
from devices.models import DeviceStatus
from devices.registration import register_device
from tests.conftest import logged_in

pytest_plugins = ["tests.sandbox"]

IOS_TOKEN = "ab" * 32


def ios_device(app, token: str = IOS_TOKEN, **fields):
    registration = {"platform": "ios", "push_token": token, "locale": "fr-FR", **fields}
    device, _ = register_device(app, uuid.uuid4(), registration)
    return device


@pytest.fixture
def notification(retail) -> Notification:
    retail.custom_property_types = {"first_name": "string"}
    retail.save()
    notification = Notification.objects.create(
        app=retail,
        name="Sale",
        platforms=["ios", "android"],
        languages=["fr"],
        title_en="Hi {{ user.first_name | default('there') }}",
        title_fr="Bonjour {{ user.first_name | default('toi') }}",
        body_en="Half price",
        body_fr="Moitié prix",
    )
    return notification


def send_test(user, notification, device):
    return logged_in(user).post(
        f"/campaigns/notification/{notification.pk}/test/",
        {"install_id": str(device.install_id)},
        follow=True,
    )


def delivered(sandbox, provider: str, target: str) -> dict:
    """Return the push the gateway accepted for one target.

    A token another test expired is refused first and the client resends with a new one, so
    the accepted push is the last one for the target.
    """
    lines = [line for line in sandbox.received(provider) if line["target"] == target]
    assert lines and lines[-1]["status"] == 200, lines
    return lines[-1]


def shown(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_it_sends_the_devices_language_personalized_and_shows_the_answer(
    sandbox, bob, retail, notification
):
    device = ios_device(retail, custom_properties={"first_name": "Chloé"})

    response = send_test(bob, notification, device)

    [message] = shown(response)
    assert message.startswith("Test send: sent · HTTP 200")
    line = delivered(sandbox, "apns", IOS_TOKEN)
    assert line["payload"]["aps"]["alert"] == {"title": "Bonjour Chloé", "body": "Moitié prix"}
    assert "tracking_id" not in line["payload"]


def test_an_unregistered_token_retires_the_device_and_says_so(sandbox, bob, retail, notification):
    device = ios_device(retail, token="dead" + "0" * 60)

    response = send_test(bob, notification, device)

    assert "device gone · HTTP 410 · Unregistered" in shown(response)[0]
    device.refresh_from_db()
    assert device.status == DeviceStatus.TOKEN_INVALID


def test_it_reaches_android_through_fcm_with_the_token_in_the_message(
    sandbox, bob, retail, notification
):
    registration = {"platform": "android", "push_token": "android-token-" + "a" * 20}
    device, _ = register_device(retail, uuid.uuid4(), registration)

    response = send_test(bob, notification, device)

    assert shown(response)[0].startswith("Test send: sent · HTTP 200")
    line = delivered(sandbox, "fcm", registration["push_token"])
    assert line["payload"]["message"]["token"] == registration["push_token"]
    assert line["payload"]["message"]["notification"]["title"] == "Hi there"


def test_an_unknown_install_id_sends_nothing(sandbox, bob, notification):
    response = logged_in(bob).post(
        f"/campaigns/notification/{notification.pk}/test/",
        {"install_id": str(uuid.uuid4())},
        follow=True,
    )

    assert shown(response) == ["No device of this app has that install ID."]
    assert not sandbox.reached()


def test_a_device_of_a_platform_the_notification_skips_is_refused(
    sandbox, bob, retail, notification
):
    notification.platforms = ["android"]
    notification.save()

    response = send_test(bob, notification, ios_device(retail))

    assert shown(response) == ["Not sent: This notification is not sent to ios devices."]
    assert not sandbox.reached()


def test_a_completed_notification_can_still_be_tried_on_a_device(
    sandbox, bob, retail, notification
):
    Notification.objects.filter(pk=notification.pk).update(status=Status.COMPLETED)

    response = send_test(bob, notification, ios_device(retail))

    assert shown(response)[0].startswith("Test send: sent")


def test_the_device_page_sends_a_short_test_message(sandbox, bob, news):
    registration = {"platform": "windows", "channel_uri": sandbox.channel_uri("device-1")}
    device, _ = register_device(news, uuid.uuid4(), registration)

    page = logged_in(bob).get(f"/devices/device/{device.pk}/change/")
    assert "Send a test notification" in page.content.decode()
    response = logged_in(bob).post(f"/campaigns/notification/test-device/{device.pk}/", follow=True)

    assert shown(response)[0].startswith("Test send: sent · HTTP 200")
    line = delivered(sandbox, "wns", registration["channel_uri"])
    assert line["headers"]["x-wns-type"] == "wns/toast"
    assert "Test from Push Center" in line["payload"]


def test_a_device_that_is_not_active_offers_no_test(sandbox, bob, retail):
    device = ios_device(retail)
    device.status = DeviceStatus.TOKEN_INVALID
    device.save()

    page = logged_in(bob).get(f"/devices/device/{device.pk}/change/")

    assert page.status_code == 200
    assert "Send a test notification" not in page.content.decode()


def test_a_developer_cannot_send_tests(sandbox, carol, retail, notification):
    device = ios_device(retail)

    assert send_test(carol, notification, device).status_code == 403
    response = logged_in(carol).post(f"/campaigns/notification/test-device/{device.pk}/")
    assert response.status_code == 403
    assert not sandbox.reached()

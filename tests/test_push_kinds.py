"""Every kind of push each provider offers, rendered, sent by the real client over sockets to
the sandbox gateways (tests/sandbox.py), and checked where the gateway recorded it.

The gateways refuse what the real services refuse (devices/sandbox/), so a shape a service
would refuse fails here; the last tests send such shapes and read the client's classification.
"""

from __future__ import annotations

import json
import uuid
from contextlib import closing

import pytest

from devices.providers import apns, fcm, wns
from devices.providers.base import Outcome, Push
from devices.providers.message import Message, WindowsOptions

pytest_plugins = ["tests.sandbox"]

DEVICE = "ab" * 32
SYNC = {"sync": "inbox", "since": "42"}


@pytest.fixture
def apns_client(sandbox, retail):
    with closing(apns.ApnsClient(retail.apns_credential.for_client())) as client:
        yield client


@pytest.fixture
def fcm_client(sandbox, retail):
    with closing(fcm.FcmClient(retail.fcm_credential.for_client())) as client:
        yield client


@pytest.fixture
def wns_client(sandbox, news):
    with closing(wns.WnsClient(news.wns_credential.for_client())) as client:
        yield client


def send_apns(client, message: Message):
    payload = apns.render(message)
    [result] = client.send([Push(str(uuid.uuid4()), DEVICE, payload.body, payload.headers)])
    return result


def send_fcm(client, message: Message, token: str = "device-1"):
    payload = fcm.render(message, token)
    [result] = client.send([Push(token, token, payload.body, payload.headers)])
    return result


def send_wns(sandbox, client, message: Message):
    payload = wns.render(message)
    [result] = client.send([Push("d-1", sandbox.channel_uri("c-1"), payload.body, payload.headers)])
    return result


def only_line(sandbox, provider: str) -> dict:
    [line] = sandbox.received(provider)
    assert line["status"] == 200, line
    return line


# APNs ----------------------------------------------------------------------------------------


def test_apns_delivers_a_silent_push_as_a_background_push(sandbox, apns_client):
    result = send_apns(apns_client, Message(kind="silent", custom_data=SYNC))

    assert result.outcome == Outcome.SENT
    line = only_line(sandbox, "apns")
    assert line["headers"]["apns-push-type"] == "background"
    assert line["headers"]["apns-priority"] == "5"
    assert line["payload"] == {"aps": {"content-available": 1}, **SYNC}


def test_apns_delivers_a_badge_push_at_the_messages_priority(sandbox, apns_client):
    result = send_apns(apns_client, Message(kind="badge", badge=3, priority="normal"))

    assert result.outcome == Outcome.SENT
    line = only_line(sandbox, "apns")
    assert line["headers"]["apns-push-type"] == "alert"
    assert line["headers"]["apns-priority"] == "5"
    assert line["payload"] == {"aps": {"badge": 3}}


def test_apns_delivers_a_rich_alert(sandbox, apns_client):
    message = Message(
        title="Sale",
        body="Half price",
        tracking_id="t-1",
        thread_id="offers",
        ios_category="SALE",
        interruption_level="passive",
        relevance_score=0.5,
    )

    assert send_apns(apns_client, message).outcome == Outcome.SENT
    line = only_line(sandbox, "apns")
    assert (line["headers"]["apns-push-type"], line["headers"]["apns-priority"]) == ("alert", "10")
    assert line["payload"] == {
        "aps": {
            "alert": {"title": "Sale", "body": "Half price"},
            "thread-id": "offers",
            "category": "SALE",
            "interruption-level": "passive",
            "relevance-score": 0.5,
        },
        "tracking_id": "t-1",
    }


# FCM -----------------------------------------------------------------------------------------


def test_fcm_delivers_a_silent_message_as_data_only(sandbox, fcm_client):
    result = send_fcm(fcm_client, Message(kind="silent", custom_data=SYNC, priority="normal"))

    assert result.outcome == Outcome.SENT
    sent = only_line(sandbox, "fcm")["payload"]["message"]
    assert sent == {"token": "device-1", "data": SYNC, "android": {"priority": "normal"}}


def test_fcm_delivers_a_badge_as_data_the_app_sets_its_badge_from(sandbox, fcm_client):
    result = send_fcm(fcm_client, Message(kind="badge", badge=5, custom_data={"box": "in"}))

    assert result.outcome == Outcome.SENT
    sent = only_line(sandbox, "fcm")["payload"]["message"]
    assert "notification" not in sent
    assert sent["data"] == {"box": "in", "badge": "5"}
    assert sent["android"] == {"priority": "high"}


def test_fcm_delivers_a_rich_notification(sandbox, fcm_client):
    message = Message(
        title="Sale",
        image_url="https://cdn.example/a.png",
        badge=2,
        android_tag="offers",
        priority="normal",
    )

    assert send_fcm(fcm_client, message).outcome == Outcome.SENT
    sent = only_line(sandbox, "fcm")["payload"]["message"]
    assert sent["notification"] == {"title": "Sale", "image": "https://cdn.example/a.png"}
    assert sent["android"] == {
        "priority": "normal",
        "notification": {"notification_count": 2, "tag": "offers"},
    }


# WNS -----------------------------------------------------------------------------------------


def test_wns_delivers_a_silent_message_as_a_raw_notification(sandbox, wns_client):
    result = send_wns(sandbox, wns_client, Message(kind="silent", custom_data=SYNC))

    assert result.outcome == Outcome.SENT
    line = only_line(sandbox, "wns")
    assert line["headers"]["x-wns-type"] == "wns/raw"
    assert line["headers"]["content-type"] == "application/octet-stream"
    assert line["payload"] == SYNC


@pytest.mark.parametrize(
    ("message", "value"),
    [
        (Message(kind="badge", badge=12), "12"),
        (Message(kind="badge", badge=1, badge_glyph="newMessage"), "newMessage"),
    ],
)
def test_wns_delivers_a_badge_with_its_number_or_glyph(sandbox, wns_client, message, value):
    assert send_wns(sandbox, wns_client, message).outcome == Outcome.SENT
    line = only_line(sandbox, "wns")
    assert line["headers"]["x-wns-type"] == "wns/badge"
    assert line["headers"]["content-type"] == "text/xml"
    assert line["payload"] == f'<badge value="{value}" />'


def test_wns_delivers_a_toast_whose_launch_carries_the_custom_data(sandbox, wns_client):
    message = Message(
        title="Sale",
        tracking_id="t-1",
        custom_data={"screen": "offers"},
        windows=WindowsOptions(launch="page=home"),
    )

    assert send_wns(sandbox, wns_client, message).outcome == Outcome.SENT
    line = only_line(sandbox, "wns")
    assert line["headers"]["x-wns-type"] == "wns/toast"
    assert 'launch="page=home&amp;screen=offers&amp;tracking_id=t-1"' in line["payload"]


# What the services refuse, classified by the clients -----------------------------------------


def apns_push(body: dict, **headers: str) -> Push:
    return Push(str(uuid.uuid4()), DEVICE, json.dumps(body).encode(), headers)


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (
            {"aps": {"content-available": 1}},
            {"apns-push-type": "background", "apns-priority": "10"},
            "BadPriority",
        ),
        (
            {"aps": {"content-available": 1, "alert": "Hi"}},
            {"apns-push-type": "background", "apns-priority": "5"},
            "InvalidPushType",
        ),
        ({"aps": {}, "sync": "inbox"}, {"apns-push-type": "alert"}, "InvalidPushType"),
        (
            {"aps": {"alert": "Hi", "interruption-level": "loud"}},
            {"apns-push-type": "alert"},
            "BadPayload",
        ),
    ],
)
def test_apns_fails_a_message_whose_shape_apple_refuses(
    sandbox, apns_client, body, headers, reason
):
    [result] = apns_client.send([apns_push(body, **headers)])

    assert (result.outcome, result.status, result.reason) == (
        Outcome.MESSAGE_FAILED,
        400,
        reason,
    )


def test_wns_fails_a_badge_with_a_glyph_microsoft_does_not_name(sandbox, wns_client):
    push = Push(
        "d-1",
        sandbox.channel_uri("c-1"),
        b'<badge value="sparkles"/>',
        {"X-WNS-Type": "wns/badge"},
    )

    [result] = wns_client.send([push])

    assert (result.outcome, result.status) == (Outcome.MESSAGE_FAILED, 400)


def test_fcm_fails_a_notification_count_that_is_not_an_integer(sandbox, fcm_client):
    message = {"token": "device-1", "android": {"notification": {"notification_count": "two"}}}
    body = json.dumps({"message": message}).encode()

    [result] = fcm_client.send([Push("d-1", "device-1", body, {})])

    assert (result.outcome, result.status, result.reason) == (
        Outcome.MESSAGE_FAILED,
        400,
        "INVALID_ARGUMENT",
    )

"""Silent, badge-only and rich notifications: composed in the dashboard, previewed with their
exact payloads, and delivered in each provider's documented shape through the sandbox gateways,
from the composer, the Push API and a journey."""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qs
from xml.etree import ElementTree

import pytest

from campaigns import delivery, tasks
from campaigns.models import DeliveryStatus, Notification, Status, Template
from devices.registration import register_device
from devices.services import issue_api_token
from journeys import events, runner, services
from journeys.models import Journey
from tests.conftest import logged_in, send_due, set_sending_rules
from tests.notification_forms import ADD, PREVIEW, errors, form_data, schedule
from tests.test_push_api import send, sent

pytest_plugins = ["tests.sandbox"]

SILENT = {
    "template": "silent",
    "title_en": "",
    "body_en": "",
    "custom_data": json.dumps({"sync": "catalogue"}),
    "priority": "normal",
}
BADGE = {"template": "badge", "title_en": "", "body_en": "", "badge": "4"}


def refused_at(response, field: str) -> str:
    assert response.status_code == 200
    assert not Notification.objects.exists()
    return " ".join(errors(response)[field])


# The composer's rules


def test_a_silent_notification_saves_with_custom_data_and_no_text(bob, retail):
    response = schedule(logged_in(bob), form_data(retail, **SILENT))

    assert response.status_code == 302, errors(response)
    notification = Notification.objects.get()
    assert notification.template == Template.SILENT and notification.status == Status.SCHEDULED
    assert not notification.track_launches


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"custom_data": "{}"}, "custom_data", "carries custom data"),
        ({"title_en": "Hello"}, "title_en", "shows no text"),
        ({"badge": "2"}, "badge", "sets no badge"),
    ],
)
def test_a_silent_notification_refuses_what_it_cannot_carry(bob, retail, fields, field, message):
    response = schedule(logged_in(bob), form_data(retail, **{**SILENT, **fields}))

    assert message in refused_at(response, field)


def test_a_badge_only_notification_needs_its_number(bob, retail):
    response = schedule(logged_in(bob), form_data(retail, **{**BADGE, "badge": ""}))

    assert "Set the badge number" in refused_at(response, "badge")


def test_a_windows_badge_only_notification_may_show_a_glyph_alone(bob, news):
    fields = {**BADGE, "badge": "", "badge_glyph": "newMessage"}

    assert schedule(logged_in(bob), form_data(news, **fields)).status_code == 302


def test_a_toast_with_a_badge_warns_that_windows_shows_none(bob, news):
    result = logged_in(bob).post(PREVIEW, form_data(news, badge="3")).json()

    assert result["valid"]
    assert any("Windows shows no badge with a toast" in w for w in result["warnings"])


def test_the_preview_says_what_a_silent_notification_does(bob, retail):
    result = logged_in(bob).post(PREVIEW, form_data(retail, **SILENT)).json()

    assert result["valid"], result["errors"]
    assert "Nobody sees it" in result["previews"]["en"]["unseen"]


def test_ios_and_android_options_are_kept(bob, retail):
    fields = {
        "thread_id": "orders",
        "ios_category": "ORDER_ACTIONS",
        "interruption_level": "time-sensitive",
        "relevance_score": "0.5",
        "android_tag": "order-17",
        "priority": "normal",
    }
    assert schedule(logged_in(bob), form_data(retail, **fields)).status_code == 302

    notification = Notification.objects.get()
    assert notification.interruption_level == "time-sensitive"
    assert notification.relevance_score == 0.5
    assert (notification.thread_id, notification.android_tag) == ("orders", "order-17")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"relevance_score": "1.5"}, "relevance_score"),
        ({"interruption_level": "critical"}, "interruption_level"),
        ({"thread_id": "two words"}, "thread_id"),
        ({"android_tag": "a/b"}, "android_tag"),
        ({"priority": "urgent"}, "priority"),
    ],
)
def test_a_bad_ios_or_android_option_is_refused_at_its_field(bob, retail, fields, field):
    refused_at(schedule(logged_in(bob), form_data(retail, **fields)), field)


def test_the_template_picker_offers_silent_and_badge_only(bob, retail):
    page = logged_in(bob).get(f"{ADD}?app={retail.pk}").content.decode()

    assert "Silent: data only" in page and "Badge only" in page
    assert "Apple throttles background pushes" in page


# Through the sandbox gateways


@pytest.fixture
def phones(sandbox, no_caps):
    for n, platform in enumerate(("ios", "android"), start=1):
        register_device(no_caps, uuid.uuid4(), {"platform": platform, "push_token": f"ab{n:062x}"})
    return no_caps


@pytest.fixture
def pc(sandbox, news):
    set_sending_rules(news, min_interval_minutes=0)
    channel = sandbox.channel_uri("pc-1")
    register_device(news, uuid.uuid4(), {"platform": "windows", "channel_uri": channel})
    return news


def deliver(notification: Notification) -> None:
    tasks.start_send.apply(args=[notification.pk])
    send_due(notification)
    assert set(notification.deliveries.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def composed(user, app, **fields) -> Notification:
    response = schedule(logged_in(user), form_data(app, **fields))
    assert response.status_code == 302, errors(response)
    return Notification.objects.latest("pk")


def received(sandbox, provider: str) -> dict:
    """Return the push the gateway accepted (a busy machine may have timed out a first try)."""
    accepted = [line for line in sandbox.received(provider) if line["status"] == 200]
    assert accepted, sandbox.received(provider)
    return accepted[-1]


def test_a_silent_notification_reaches_each_platform_as_data_only(sandbox, bob, phones, pc):
    deliver(composed(bob, phones, **SILENT))
    deliver(composed(bob, pc, **SILENT))

    apns = received(sandbox, "apns")
    assert apns["headers"]["apns-push-type"] == "background"
    assert apns["headers"]["apns-priority"] == "5"
    assert apns["payload"] == {"aps": {"content-available": 1}, "sync": "catalogue"}
    fcm = received(sandbox, "fcm")["payload"]["message"]
    assert "notification" not in fcm and fcm["data"] == {"sync": "catalogue"}
    assert fcm["android"]["priority"] == "normal"
    wns = received(sandbox, "wns")
    assert wns["headers"]["x-wns-type"] == "wns/raw"
    assert wns["headers"]["content-type"] == "application/octet-stream"
    assert wns["payload"] == {"sync": "catalogue"}


def test_a_badge_only_notification_sets_the_badge_on_each_platform(sandbox, bob, phones, pc):
    deliver(composed(bob, phones, **BADGE))
    deliver(composed(bob, pc, **{**BADGE, "badge": "", "badge_glyph": "newMessage"}))

    apns = received(sandbox, "apns")
    assert apns["payload"] == {"aps": {"badge": 4}}
    assert apns["headers"]["apns-push-type"] == "alert"
    fcm = received(sandbox, "fcm")["payload"]["message"]
    assert "notification" not in fcm and fcm["data"] == {"badge": "4"}
    wns = received(sandbox, "wns")
    assert wns["headers"]["x-wns-type"] == "wns/badge"
    assert wns["payload"] == '<badge value="newMessage" />'


def test_a_rich_push_api_send_reaches_apns_and_fcm_with_every_option(sandbox, phones):
    token = issue_api_token(phones, "server")[1]
    content = {
        "name": "Order",
        "title": "Your order shipped",
        "body": "It arrives tomorrow.",
        "custom_data": {"order": "17"},
        "thread_id": "orders",
        "category": "ORDER_ACTIONS",
        "interruption_level": "time-sensitive",
        "relevance_score": 0.75,
        "priority": "normal",
        "badge": 2,
        "android_tag": "order-17",
    }
    deliver(sent(send(token, phones, {"notification_content": content})))

    apns = received(sandbox, "apns")
    aps = apns["payload"]["aps"]
    assert (aps["thread-id"], aps["category"]) == ("orders", "ORDER_ACTIONS")
    assert (aps["interruption-level"], aps["relevance-score"]) == ("time-sensitive", 0.75)
    assert aps["badge"] == 2 and apns["payload"]["order"] == "17"
    assert apns["headers"]["apns-priority"] == "5"
    fcm = received(sandbox, "fcm")["payload"]["message"]
    assert fcm["android"]["priority"] == "normal"
    assert fcm["android"]["notification"]["tag"] == "order-17"
    assert fcm["android"]["notification"]["notification_count"] == 2


def test_a_windows_toast_carries_its_custom_data_in_the_launch_arguments(sandbox, pc):
    token = issue_api_token(pc, "server")[1]
    content = {"name": "Order", "title": "Shipped", "custom_data": {"order": "17 & 18"}}
    deliver(sent(send(token, pc, {"notification_content": content})))

    toast = ElementTree.fromstring(received(sandbox, "wns")["payload"])
    launch = parse_qs(toast.get("launch"))
    assert launch["order"] == ["17 & 18"] and "tracking_id" in launch


def test_a_journey_step_may_be_silent(sandbox, phones):
    made = Journey.objects.create(app=phones, name="Sync", trigger="event", event_name="synced")
    step = services.add_step(made)
    Notification.objects.filter(pk=step.notification_id).update(
        template=Template.SILENT, platforms=["ios"], custom_data={"sync": "now"}
    )
    services.activate(made)

    installs = [str(i) for i in phones.devices.values_list("install_id", flat=True)]
    events.record(phones, "synced", install_ids=installs)
    for notification_id in runner.run():
        while ids := delivery.claim(notification_id):
            delivery.send_batch(ids)

    apns = received(sandbox, "apns")
    assert apns["headers"]["apns-push-type"] == "background"
    assert apns["payload"] == {"aps": {"content-available": 1}, "sync": "now"}

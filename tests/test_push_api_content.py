"""The Push API sets everything the composer does: rich content, silent and badge-only pushes,
per-language texts, templates, and App Center's account_ids_target."""

from __future__ import annotations

import uuid

import pytest

from campaigns import audience
from campaigns.models import OnClick, Priority, Status, TargetKind, Template
from devices.registration import register_device
from tests.test_device_api import api
from tests.test_push_api import CONTENT, push_url, send, sent

RICH = {
    **CONTENT,
    "subtitle": "Shoes and bags",
    "image_url": "https://cdn.contoso.com/sale.png",
    "url": "https://contoso.com/sale",
    "sound": "default",
    "badge": 3,
    "category": "SALE_ACTIONS",
    "thread_id": "sales",
    "interruption_level": "time-sensitive",
    "relevance_score": 0.8,
    "collapse_id": "sale1",
    "priority": "normal",
    "android_channel": "offers",
    "android_tag": "sale",
}


def test_every_rich_field_reaches_the_notification(retail, retail_token):
    notification = sent(send(retail_token, retail, {"notification_content": RICH}))

    assert notification.subtitle_en == "Shoes and bags"
    assert notification.image_url == "https://cdn.contoso.com/sale.png"
    assert (notification.on_click, notification.url) == (OnClick.URL, "https://contoso.com/sale")
    assert (notification.sound, notification.badge) == ("default", 3)
    assert (notification.ios_category, notification.thread_id) == ("SALE_ACTIONS", "sales")
    assert notification.interruption_level == "time-sensitive"
    assert notification.relevance_score == 0.8
    assert (notification.collapse_id, notification.priority) == ("sale1", Priority.NORMAL)
    assert (notification.android_channel, notification.android_tag) == ("offers", "sale")


def test_reading_a_notification_back_gives_its_content_as_sent(retail, retail_token):
    notification = sent(send(retail_token, retail, {"notification_content": RICH}))

    response = api(retail_token).get(push_url(retail, notification.pk))

    content = response.json()["notification_content"]
    assert {key: content[key] for key in RICH} == RICH
    assert content["silent"] is False and content["template"] == "standard"


def test_languages_carry_their_own_texts_and_the_rest_are_translated(retail, retail_token):
    languages = {"fr": {"title": "Moitié prix", "body": "Aujourd'hui."}, "de": {}}
    body = {"notification_content": {**CONTENT, "languages": languages}}

    notification = sent(send(retail_token, retail, body))

    assert notification.languages == ["fr", "de"]
    assert (notification.title_fr, notification.body_fr) == ("Moitié prix", "Aujourd'hui.")
    assert notification.overridden_languages == ["fr"]
    assert notification.title_de and notification.title_de != notification.title_en


def test_a_silent_push_needs_no_text_and_carries_its_data(retail, retail_token):
    body = {"notification_content": {"name": "Sync", "silent": True, "custom_data": {"s": "1"}}}

    notification = sent(send(retail_token, retail, body))

    assert notification.template == Template.SILENT and notification.status == Status.SCHEDULED
    assert notification.custom_data == {"s": "1"}


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({"name": "Sync", "silent": True}, "notification_content.custom_data"),
        (
            {"name": "Sync", "silent": True, "title": "Hi", "custom_data": {"s": "1"}},
            "notification_content.title",
        ),
        (
            {"name": "x", "silent": True, "template": "sale", "custom_data": {"s": "1"}},
            "notification_content.silent",
        ),
        ({"name": "Badge", "template": "badge", "badge": None}, "notification_content.badge"),
        ({**CONTENT, "interruption_level": "loud"}, "notification_content.interruption_level"),
        ({**CONTENT, "relevance_score": 2}, "notification_content.relevance_score"),
        ({**CONTENT, "priority": "urgent"}, "notification_content.priority"),
        ({**CONTENT, "badge": -1}, "notification_content.badge"),
        ({**CONTENT, "thread_id": "a b"}, "notification_content.thread_id"),
        ({**CONTENT, "url": "ftp://contoso.com"}, "notification_content.url"),
        ({**CONTENT, "template": "poster"}, "notification_content.template"),
        ({**CONTENT, "languages": {"xx": {}}}, "notification_content.languages"),
        (
            {**CONTENT, "languages": {"fr": {"title": "{{ nope }}"}}},
            "notification_content.languages.fr.title",
        ),
    ],
)
def test_a_bad_content_field_is_named_and_nothing_is_stored(retail, retail_token, content, field):
    response = send(retail_token, retail, {"notification_content": content})

    assert response.status_code == 400, response.json()
    assert response.json()["error"]["field"] == field, response.json()
    assert not retail.notifications.exists()


def test_a_badge_only_push(retail, retail_token):
    body = {"notification_content": {"name": "Badge", "template": "badge", "badge": 4}}

    notification = sent(send(retail_token, retail, body))

    assert (notification.template, notification.badge) == (Template.BADGE, 4)


def test_a_template_fills_in_its_texts_and_the_apps_store_links(retail, retail_token):
    retail.app_store_id, retail.play_package_name = "123456789", "com.contoso.retail"
    retail.save()
    body = {"notification_content": {"name": "Sale", "template": "sale", "body": "Ours."}}

    notification = sent(send(retail_token, retail, body))

    assert notification.template == Template.SALE
    assert (notification.title_en, notification.body_en) == ("On sale now", "Ours.")
    assert notification.ios_url == "https://apps.apple.com/app/id123456789"
    assert notification.android_url.endswith("id=com.contoso.retail")


def test_account_ids_reach_every_device_of_those_accounts(retail, retail_token):
    devices = {}
    for n, account in enumerate(["family-1", "family-1", "family-2", None], start=1):
        registration = {"platform": "ios", "push_token": f"{n:064x}", "account_id": account}
        devices[n], _ = register_device(retail, uuid.UUID(int=n), registration)
    target = {"type": "account_ids_target", "account_ids": ["family-1", "nobody"]}

    notification = sent(
        send(retail_token, retail, {"notification_content": CONTENT, "notification_target": target})
    )

    assert notification.target_kind == TargetKind.ACCOUNT_IDS
    assert set(audience.audience(notification)) == {devices[1], devices[2]}
    shown = api(retail_token).get(push_url(retail, notification.pk)).json()
    assert shown["notification_target"] == target


def test_a_device_registers_its_account_and_clears_it_with_null(retail, retail_token):
    url = f"/api/v1/apps/{retail.application_id}/devices/{uuid.UUID(int=7)}"
    body = {"platform": "ios", "push_token": "ab" * 32, "account_id": "family-1"}

    assert api(retail_token).put(url, body, format="json").json()["account_id"] == "family-1"
    blank = api(retail_token).patch(url, {"account_id": " "}, format="json")
    assert blank.status_code == 400 and blank.json()["error"]["field"] == "account_id"
    assert (
        api(retail_token).patch(url, {"account_id": None}, format="json").json()["account_id"]
        is None
    )


def test_a_windows_toast_with_an_input_and_a_button(news, news_token):
    windows = {
        "activation_type": "foreground",
        "launch": "screen=replies",
        "scenario": "reminder",
        "inputs": [{"id": "reply", "type": "text", "placeholder": "Type a reply"}],
        "actions": [{"content": "Send", "arguments": "action=send", "input_id": "reply"}],
    }
    body = {"notification_content": {**CONTENT, "template": "toast", "windows": windows}}

    notification = sent(send(news_token, news, body))

    assert (notification.template, notification.scenario) == (Template.TOAST, "reminder")
    assert notification.inputs[0]["placeholder"] == "Type a reply"
    assert notification.actions[0]["input_id"] == "reply"
    shown = api(news_token).get(push_url(news, notification.pk)).json()["notification_content"]
    assert shown["windows"]["launch"] == "screen=replies"
    assert shown["windows"]["actions"][0]["content"] == "Send"


@pytest.mark.parametrize(
    ("windows", "field"),
    [
        ({"scenario": "party"}, "notification_content.windows.scenario"),
        ({"actions": [{"content": "Send"}]}, "notification_content.windows.actions"),
        ({"image": "ftp://x"}, "notification_content.windows.image"),
    ],
)
def test_a_bad_windows_option_is_named(news, news_token, windows, field):
    body = {"notification_content": {**CONTENT, "template": "toast", "windows": windows}}

    response = send(news_token, news, body)

    assert response.status_code == 400, response.json()
    assert response.json()["error"]["field"] == field
    assert not news.notifications.exists()


def test_each_platform_may_open_its_own_link(retail, retail_token):
    content = {
        **CONTENT,
        "ios_url": "https://apps.apple.com/app/id1",
        "android_url": "https://play.google.com/store/apps/details?id=x",
    }
    notification = sent(send(retail_token, retail, {"notification_content": content}))

    assert notification.on_click == OnClick.URL and notification.ios_url.endswith("id1")

"""Silent, badge-only and rich notifications: composed in the dashboard, previewed with their
exact payloads, and delivered in each provider's documented shape through the sandbox gateways,
from the composer, the Push API and a journey."""

from __future__ import annotations

import json

import pytest

from campaigns.models import Notification, Status, Template
from tests.conftest import logged_in
from tests.notification_forms import ADD, PREVIEW, errors, form_data, schedule

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

"""The notification composer: templates, schedule, options, payload sizes, roles and history."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Kind, Notification, Status
from segments.models import Segment
from tests.conftest import logged_in
from tests.notification_forms import (
    ADD,
    PREVIEW,
    cancel_url,
    change_url,
    duplicate_url,
    errors,
    form_data,
    opened_form,
    save_draft,
    schedule,
)

LONG_TEXT = "日" * 1500  # 4,500 bytes in UTF-8: more than APNs or FCM accept


def minutes_from_now(minutes: int) -> str:
    return (timezone.now() + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def store_ids(retail, news):
    retail.app_store_id, retail.play_package_name = "123456789", "com.contoso.retail"
    retail.save()
    news.store_product_id = "9NBLGGH4R315"
    news.save()


@pytest.fixture
def notification(bob, retail) -> Notification:
    assert schedule(logged_in(bob), form_data(retail)).status_code == 302
    return Notification.objects.get()


def refused(response, field: str) -> str:
    """Assert the form came back with an error at field and nothing stored; return the error."""
    assert response.status_code == 200
    assert not Notification.objects.exists()
    return " ".join(errors(response)[field])


# Templates


def test_the_picker_lists_every_template_for_the_app(bob, retail):
    page = logged_in(bob).get(f"{ADD}?app={retail.pk}").content.decode()
    for label in ("Blank (toast)", "Ask for ratings", "Cross-promote", "Prompt for update"):
        assert label in page
    assert f"?app={retail.pk}&amp;template=ratings" in page


@pytest.mark.parametrize(
    ("template", "title", "body"),
    [
        ("standard", "", ""),
        ("toast", "", ""),
        ("ratings", "Enjoying the app?", "Tell us what you think: rate it in the store."),
        ("feedback", "Help us improve", "Tell us what works and what doesn't in Feedback Hub."),
        ("cross_promote", "You might also like", "Try our other app."),
        ("sale", "On sale now", "Save on a limited-time deal."),
        ("update", "A new version is here", "Update now to get the latest features and fixes."),
    ],
)
def test_each_template_opens_with_its_texts(bob, news, template, title, body):
    form = opened_form(logged_in(bob), f"{ADD}?app={news.pk}&template={template}")
    assert (form["template"], form["title_en"], form["body_en"]) == (template, title, body)


def test_the_tile_template_opens_with_a_binding_per_size(bob, news):
    form = opened_form(logged_in(bob), f"{ADD}?app={news.pk}&template=tile")
    assert [b["size"] for b in json.loads(form["tile_bindings"])] == ["medium", "wide"]


@pytest.mark.parametrize(
    ("app", "template", "platforms"),
    [
        ("retail", "standard", ["ios", "android"]),
        ("news", "standard", "windows"),
        ("retail", "ratings", ["ios", "android"]),
        ("news", "update", "windows"),
        ("news", "toast", "windows"),
    ],
)
def test_a_template_opens_on_the_platforms_the_app_has_credentials_for(
    request, bob, app, template, platforms
):
    pk = request.getfixturevalue(app).pk
    assert opened_form(logged_in(bob), f"{ADD}?app={pk}&template={template}")["platforms"] == (
        platforms
    )


@pytest.mark.parametrize(
    ("template", "ios_url", "launch"),
    [
        (
            "ratings",
            "https://apps.apple.com/app/id123456789?action=write-review",
            "ms-windows-store://review/?ProductId=9NBLGGH4R315",
        ),
        (
            "sale",
            "https://apps.apple.com/app/id123456789",
            "ms-windows-store://pdp/?ProductId=9NBLGGH4R315",
        ),
        (
            "update",
            "https://apps.apple.com/app/id123456789",
            "ms-windows-store://downloadsandupdates",
        ),
    ],
)
def test_store_links_use_the_apps_store_ids(
    bob, retail, news, store_ids, template, ios_url, launch
):
    client = logged_in(bob)
    phone = opened_form(client, f"{ADD}?app={retail.pk}&template={template}")
    assert (phone["on_click"], phone["ios_url"]) == ("url", ios_url)
    assert (
        phone["android_url"] == "https://play.google.com/store/apps/details?id=com.contoso.retail"
    )
    pc = opened_form(client, f"{ADD}?app={news.pk}&template={template}")
    assert (pc["activation_type"], pc["launch"]) == ("protocol", launch)


def test_store_links_hold_placeholders_without_store_ids(bob, retail):
    form = opened_form(logged_in(bob), f"{ADD}?app={retail.pk}&template=sale")
    assert form["ios_url"] == "https://apps.apple.com/app/id{App Store ID}"
    assert form["android_url"].endswith("details?id={Google Play package name}")
    assert form["launch"] == "ms-windows-store://pdp/?ProductId={Microsoft Store ID}"


@pytest.mark.parametrize("template", ["ratings", "sale", "update"])
def test_a_store_template_saves_as_opened_once_the_app_has_store_ids(
    bob, retail, store_ids, template
):
    retail.latest_version = "2.0"
    retail.save()
    client = logged_in(bob)
    form = opened_form(client, f"{ADD}?app={retail.pk}&template={template}")
    assert schedule(client, form).status_code == 302
    assert Notification.objects.get().ios_url.startswith("https://apps.apple.com/app/id123456789")


def test_a_store_link_placeholder_is_refused_at_its_field(bob, retail):
    client = logged_in(bob)
    response = schedule(client, opened_form(client, f"{ADD}?app={retail.pk}&template=ratings"))
    assert "{App Store ID}" in refused(response, "ios_url")
    assert "{Google Play package name}" in errors(response)["android_url"][0]


def test_feedback_without_a_package_family_name_is_refused_at_launch(bob, news):
    news.wns_credential.package_family_name = ""
    news.wns_credential.save()
    client = logged_in(bob)
    response = schedule(client, opened_form(client, f"{ADD}?app={news.pk}&template=feedback"))
    assert refused(response, "launch") == (
        "Replace the placeholder {PACKAGE_FAMILY_NAME} with your own value."
    )


def test_feedback_opens_the_apps_page_in_feedback_hub(bob, news):
    client = logged_in(bob)
    form = opened_form(client, f"{ADD}?app={news.pk}&template=feedback")
    assert form["launch"] == "feedback-hub:?tabid=2&appid=Contoso.News_8wekyb3d8bbwe!App"
    assert schedule(client, form).status_code == 302


def test_cross_promote_needs_the_other_apps_product_id(bob, news):
    client = logged_in(bob)
    response = schedule(client, opened_form(client, f"{ADD}?app={news.pk}&template=cross_promote"))
    assert "{ProductId you want to promote here}" in refused(response, "launch")


# Prompt for update


def test_prompt_for_update_saves_without_a_segment(bob, retail):
    retail.latest_version = "3.1"
    retail.save()
    client = logged_in(bob)
    form = opened_form(client, f"{ADD}?app={retail.pk}&template=update")
    form.update(ios_url="https://example.com/ios", android_url="https://example.com/android")
    assert schedule(client, form).status_code == 302
    assert Notification.objects.get().target_kind == "outdated"


def test_prompt_for_update_is_refused_when_no_version_is_known(bob, retail):
    response = schedule(logged_in(bob), form_data(retail, target_kind="outdated"))
    assert "No device reports an app version yet" in refused(response, "target_kind")


# Kind


def test_the_composer_saves_the_kind_marketing_by_default(bob, retail):
    client = logged_in(bob)
    page = client.get(f"{ADD}?app={retail.pk}&template=standard").content.decode()
    assert "Transactional" in page and "past the caps and quiet hours" in page
    assert opened_form(client, f"{ADD}?app={retail.pk}&template=standard")["kind"] == "marketing"
    schedule(client, form_data(retail))
    schedule(client, form_data(retail, name="Order shipped", kind="transactional"))

    kinds = dict(Notification.objects.values_list("name", "kind"))
    assert kinds == {"Spring sale": Kind.MARKETING, "Order shipped": Kind.TRANSACTIONAL}
    shipped = Notification.objects.filter(kind=Kind.TRANSACTIONAL)
    shipped.update(status=Status.SENDING)
    page = client.get(change_url(shipped.get().pk)).content.decode()
    assert '<div class="readonly">Transactional</div>' in page


def test_an_unknown_kind_is_refused_at_its_field(bob, retail):
    response = schedule(logged_in(bob), form_data(retail, kind="bogus"))
    assert "kind" in errors(response) and not Notification.objects.exists()


# Schedule and expiry


def test_send_now_schedules_it_at_once(bob, retail):
    before = timezone.now()
    assert schedule(logged_in(bob), form_data(retail)).status_code == 302
    stored = Notification.objects.get()
    assert (stored.status, stored.author) == (Status.SCHEDULED, bob)
    assert before <= stored.send_at <= timezone.now()


def test_a_send_time_in_the_past_is_refused(bob, retail):
    data = form_data(retail, schedule_kind="at", send_at=minutes_from_now(-5))
    assert refused(schedule(logged_in(bob), data), "send_at") == "Choose a time in the future."


def test_a_send_time_in_the_future_is_kept(bob, retail):
    data = form_data(retail, schedule_kind="at", send_at="2099-01-02T03:04")
    assert schedule(logged_in(bob), data).status_code == 302
    assert Notification.objects.get().send_at.isoformat() == "2099-01-02T03:04:00+00:00"


def test_a_local_time_passed_in_every_zone_is_refused(bob, retail):
    data = form_data(retail, schedule_kind="local", local_send_at=minutes_from_now(-13 * 60))
    assert refused(schedule(logged_in(bob), data), "local_send_at") == (
        "That time has passed in every time zone."
    )


def test_a_local_time_tomorrow_is_accepted(bob, retail):
    data = form_data(retail, schedule_kind="local", local_send_at=minutes_from_now(24 * 60))
    assert schedule(logged_in(bob), data).status_code == 302
    assert Notification.objects.get().local_send_at is not None


def test_an_expiry_before_the_send_is_refused(bob, retail):
    data = form_data(
        retail,
        schedule_kind="at",
        send_at="2099-01-02T03:04",
        never_expires="",
        expires_at="2099-01-01T00:00",
    )
    assert refused(schedule(logged_in(bob), data), "expires_at") == (
        "Choose an expiry after the send."
    )


def test_an_expiry_after_the_send_is_kept(bob, retail):
    data = form_data(retail, never_expires="", expires_at="2099-01-01T00:00")
    assert schedule(logged_in(bob), data).status_code == 302
    assert Notification.objects.get().expires_at.year == 2099


def test_never_expires_clears_the_expiry(bob, retail):
    data = form_data(retail, never_expires="on", expires_at="2099-01-01T00:00")
    assert schedule(logged_in(bob), data).status_code == 302
    assert Notification.objects.get().expires_at is None


def test_save_as_draft_keeps_it_a_draft(bob, retail):
    assert save_draft(logged_in(bob), form_data(retail)).status_code == 302
    stored = Notification.objects.get()
    assert (stored.status, stored.send_at, stored.scheduled_at) == (Status.DRAFT, None, None)


def test_a_scheduled_notification_stays_editable(bob, retail, notification):
    client = logged_in(bob)
    url = change_url(notification.pk)
    assert schedule(client, {**opened_form(client, url), "name": "Renamed"}, url).status_code == 302
    notification.refresh_from_db()
    assert (notification.name, notification.status) == ("Renamed", Status.SCHEDULED)
    assert 'name="_schedule"' in client.get(url).content.decode()


@pytest.mark.parametrize("status", [Status.SENDING, Status.COMPLETED, Status.CANCELLED])
def test_a_notification_that_left_the_drafts_cannot_be_changed(bob, retail, notification, status):
    Notification.objects.filter(pk=notification.pk).update(status=status)
    client = logged_in(bob)
    page = client.get(change_url(notification.pk)).content.decode()
    assert "can no longer be changed" in page and 'name="_schedule"' not in page
    response = schedule(client, form_data(retail, name="Renamed"), change_url(notification.pk))
    assert response.status_code == 403
    assert Notification.objects.get().name == "Spring sale"


def test_cancel_stops_a_scheduled_notification(bob, notification):
    response = logged_in(bob).post(cancel_url(notification.pk), follow=True)
    notification.refresh_from_db()
    assert notification.status == Status.CANCELLED and notification.cancelled_at
    assert "Spring sale is cancelled; it will not be sent." in response.content.decode()


def test_a_completed_notification_cannot_be_cancelled(bob, notification):
    Notification.objects.filter(pk=notification.pk).update(status=Status.COMPLETED)
    response = logged_in(bob).post(cancel_url(notification.pk), follow=True)
    assert "This notification is completed; it can no longer be changed." in (
        response.content.decode()
    )
    assert Notification.objects.get().status == Status.COMPLETED


def test_duplicate_copies_content_and_segments_as_a_draft(bob, retail):
    segment = Segment.objects.create(app=retail, name="fans", definition="exists(locale)")
    data = form_data(retail, target_kind="segments", segments=[segment.pk], languages=["fr"])
    schedule(logged_in(bob), data)
    original = Notification.objects.get()
    Notification.objects.filter(pk=original.pk).update(status=Status.COMPLETED)
    response = logged_in(bob).post(duplicate_url(original.pk))
    copy = Notification.objects.exclude(pk=original.pk).get()
    assert response["Location"] == change_url(copy.pk)
    assert (copy.name, copy.status, copy.completed_at) == ("Spring sale (copy)", Status.DRAFT, None)
    assert (copy.title_en, copy.title_fr) == ("Spring is here", "[fr] Spring is here")
    assert list(copy.segments.all()) == [segment]


# Options


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"on_click": "url", "url": "http://example.com/"}, "url", "not http:"),
        ({"on_click": "url", "url": "javascript:alert(1)"}, "url", "not javascript:"),
        ({"on_click": "url", "url": "/offers"}, "url", "must be an absolute URL"),
        ({"on_click": "url", "ios_url": "https://example.com/a b"}, "ios_url", "spaces"),
        ({"on_click": "deep_link", "url": "contoso-retail://offers"}, "url", "deep-link scheme"),
        ({"image_url": "http://example.com/a.png"}, "image_url", "may use https:; not http:"),
        ({"custom_data": '{"aps": "x"}'}, "custom_data", "'aps' is reserved"),
        ({"custom_data": '{"tracking_id": "x"}'}, "custom_data", "'tracking_id' is reserved"),
        ({"custom_data": '{"google.x": "x"}'}, "custom_data", "'google.x' is reserved"),
        ({"custom_data": '{"Google.x": "x"}'}, "custom_data", "'Google.x' is reserved"),
        ({"custom_data": '{"notification": "x"}'}, "custom_data", "'notification' is reserved"),
        ({"custom_data": '{"screen": {"id": 1}}'}, "custom_data", "must be text"),
        ({"custom_data": "[1]"}, "custom_data", "must be a JSON object"),
        ({"sound": "chime.exe"}, "sound", "a sound file bundled with the app"),
        ({"sound": "../chime.caf"}, "sound", "a sound file bundled with the app"),
        ({"audio": "ms-winsoundevent:Notification.Beep"}, "audio", "Use a Windows sound"),
        ({"inputs": '[{"id": "a", "color": "red"}]'}, "inputs", "Input 1: unknown key 'color'"),
        ({"inputs": '[{"id": "a"}, {"id": "a"}]'}, "inputs", "the id 'a' is used twice"),
        (
            {"actions": '[{"content": "Go", "arguments": "go", "input_id": "reply"}]'},
            "actions",
            "Action 1: input_id 'reply' names no input.",
        ),
        (
            {"tile_bindings": '[{"size": "medium"}, {"size": "medium"}]'},
            "tile_bindings",
            "Tile binding 2: there is already a medium binding.",
        ),
        ({"tile_bindings": '[{"size": "huge"}]'}, "tile_bindings", "size must be one of"),
        ({"platforms": ["ios", "windows"]}, "platforms", "has no Windows credentials"),
        ({"template": "tile", "platforms": ["ios"]}, "platforms", "is for Windows only"),
    ],
)
def test_a_broken_option_is_refused_at_its_field(bob, retail, fields, field, message):
    response = schedule(logged_in(bob), form_data(retail, **fields))
    assert message in refused(response, field)


def test_a_deep_link_in_the_apps_own_scheme_is_kept(bob, retail):
    retail.deep_link_scheme = "contoso-retail"
    retail.save()
    data = form_data(retail, on_click="deep_link", url="contoso-retail://offers")
    assert schedule(logged_in(bob), data).status_code == 302
    assert Notification.objects.get().url == "contoso-retail://offers"


def test_a_deep_link_may_not_leave_the_app(bob, retail):
    retail.deep_link_scheme = "contoso-retail"
    retail.save()
    data = form_data(retail, on_click="deep_link", url="https://example.com/")
    assert "may use contoso-retail:; not https:" in refused(schedule(logged_in(bob), data), "url")


def test_a_url_for_each_platform_needs_no_shared_url(bob, retail):
    data = form_data(
        retail, on_click="url", ios_url="https://example.com/i", android_url="market://details?id=x"
    )
    assert schedule(logged_in(bob), data).status_code == 302


def test_windows_toast_options_are_kept(bob, news):
    data = form_data(
        news,
        audio="ms-winsoundevent:Notification.Looping.Alarm2",
        inputs='[{"id": "reply", "placeholder": "Type a reply"}]',
        actions='[{"content": "Send", "arguments": "send", "input_id": "reply"}]',
    )
    assert schedule(logged_in(bob), data).status_code == 302
    stored = Notification.objects.get()
    assert stored.inputs == [
        {"id": "reply", "placeholder": "Type a reply", "type": "text", "selections": []}
    ]
    assert stored.actions[0]["activation_type"] == "foreground"


def test_a_long_custom_value_is_a_warning_shown_after_the_save(bob, retail):
    data = form_data(retail, custom_data=json.dumps({"coupon": "x" * 150}), _schedule="1")
    response = logged_in(bob).post(ADD, data, follow=True)
    assert Notification.objects.get().custom_data == {"coupon": "x" * 150}
    assert "Custom data &#x27;coupon&#x27; is 150 characters" in response.content.decode()


# Payload size


def test_a_body_too_long_for_apns_is_refused_naming_apns_and_the_size(bob, retail):
    response = schedule(logged_in(bob), form_data(retail, body_en=LONG_TEXT))
    message = refused(response, "__all__")
    assert "English: The APNs payload is" in message
    assert "APNs accepts at most 4,096 bytes." in message


def test_a_translation_too_long_for_apns_is_refused_naming_its_language(bob, retail):
    data = form_data(retail, languages=["fr"], title_fr="Bonjour", body_fr=LONG_TEXT)
    message = refused(schedule(logged_in(bob), data), "__all__")
    assert "French: The APNs payload is" in message and "English:" not in message


def test_a_toast_over_5000_bytes_is_refused_naming_wns(bob, news):
    # About 5,014 bytes: within the 5,120 once assumed, over the 5,000 WNS's 413 names.
    response = schedule(logged_in(bob), form_data(news, body_en="日" * 1600))
    message = refused(response, "__all__")
    assert "English: The WNS payload is 5,0" in message
    assert "WNS accepts at most 5,000 bytes." in message


def test_the_preview_shows_each_platforms_size_and_limit(bob, retail, news):
    client = logged_in(bob)
    phone = client.post(PREVIEW, form_data(retail)).json()["previews"]["en"]["payloads"]
    assert (phone["ios"]["provider"], phone["ios"]["limit"]) == ("APNs", 4096)
    assert (phone["android"]["provider"], phone["android"]["limit"]) == ("FCM", 4096)
    assert phone["ios"]["size"] == len(phone["ios"]["text"].encode())
    pc = client.post(PREVIEW, form_data(news)).json()["previews"]["en"]["payloads"]
    assert (pc["windows"]["provider"], pc["windows"]["limit"]) == ("WNS", 5000)


def test_the_preview_flags_a_payload_over_its_limit(bob, retail):
    result = logged_in(bob).post(PREVIEW, form_data(retail, body_en=LONG_TEXT)).json()
    ios = result["previews"]["en"]["payloads"]["ios"]
    assert not result["valid"] and ios["size"] > ios["limit"] == 4096
    assert (
        ios["error"]
        == f"The APNs payload is {ios['size']:,} bytes; APNs accepts at most 4,096 bytes."
    )


# Personalization


def test_an_unknown_personalization_token_is_refused_at_its_field(bob, retail):
    data = form_data(retail, title_en="Hi {{ user.nickname }}")
    assert "nickname" in refused(schedule(logged_in(bob), data), "title_en")


def test_a_declared_custom_property_may_be_used(bob, retail):
    retail.custom_property_types = {"nickname": "string"}
    retail.save()
    data = form_data(retail, title_en="Hi {{ user.nickname }}")
    assert schedule(logged_in(bob), data).status_code == 302


def test_the_preview_shows_the_default_of_a_missing_property(bob, retail):
    retail.custom_property_types = {"nickname": "string"}
    retail.save()
    data = form_data(retail, title_en="Hi {{ user.nickname | default('there') }}")
    result = logged_in(bob).post(PREVIEW, data).json()
    assert result["previews"]["en"]["title"] == "Hi there"


# Roles


def test_a_marketer_adds_and_changes_notifications(bob, retail, notification):
    client = logged_in(bob)
    assert client.get(f"{ADD}?app={retail.pk}").status_code == 200
    assert client.get(change_url(notification.pk)).status_code == 200
    assert client.post(PREVIEW, form_data(retail)).json()["valid"]


def test_an_app_administrator_only_views_notifications(alice, retail, notification):
    client = logged_in(alice)
    page = client.get(change_url(notification.pk))
    assert page.status_code == 200 and 'name="_schedule"' not in page.content.decode()
    assert client.get(f"{ADD}?app={retail.pk}").status_code == 403
    response = schedule(client, form_data(retail, name="Renamed"), change_url(notification.pk))
    assert response.status_code == 403
    assert client.post(cancel_url(notification.pk)).status_code == 403
    assert Notification.objects.get().name == "Spring sale"


def test_a_developer_sees_no_notifications(carol, retail, notification):
    client = logged_in(carol)
    assert client.get(f"{ADD}?app={retail.pk}").status_code == 403
    assert client.get(change_url(notification.pk)).status_code == 403
    assert client.post(PREVIEW, form_data(retail)).status_code == 403


def test_a_collapse_id_and_channel_are_kept(bob, retail):
    data = form_data(retail, collapse_id="sale-42", android_channel="offers")

    assert save_draft(logged_in(bob), data).status_code == 302
    stored = Notification.objects.get()
    assert (stored.collapse_id, stored.android_channel) == ("sale-42", "offers")


def tile_data(news, collapse_id: str) -> dict:
    binding = json.dumps([{"size": "medium", "texts": ["Sale"]}])
    return form_data(news, template="tile", tile_bindings=binding, collapse_id=collapse_id)


@pytest.mark.parametrize("collapse_id", ["sale-42", "sale_42", "sale.42"])
def test_a_tiles_collapse_id_wns_would_refuse_is_refused_at_its_field(bob, news, collapse_id):
    # Microsoft's "Push notification service request and response headers": X-WNS-Tag is "An
    # alphanumeric string of no more than 16 characters", used only with tile notifications.
    message = refused(schedule(logged_in(bob), tile_data(news, collapse_id)), "collapse_id")

    assert message == (
        "A tile's collapse ID is sent to Windows as X-WNS-Tag, which WNS takes as letters and "
        "digits only, at most 16 characters."
    )


def test_a_tiles_collapse_id_of_letters_and_digits_is_kept(bob, news):
    assert schedule(logged_in(bob), tile_data(news, "sale42")).status_code == 302
    assert Notification.objects.get().collapse_id == "sale42"


def test_a_toasts_collapse_id_needs_no_wns_tag_rule(bob, news):
    # A toast carries no X-WNS-Tag, so the id only has to suit APNs and FCM.
    assert schedule(logged_in(bob), form_data(news, collapse_id="sale-42")).status_code == 302
    assert Notification.objects.get().collapse_id == "sale-42"


def test_a_collapse_id_with_spaces_is_refused_at_its_field(bob, retail):
    response = save_draft(logged_in(bob), form_data(retail, collapse_id="sale 42"))

    assert "letters, digits" in errors(response)["collapse_id"][0]
    assert not Notification.objects.exists()


def test_a_sent_notifications_page_shows_its_lists_in_words(bob, retail):
    sent = Notification.objects.create(
        app=retail,
        name="Sent",
        status=Status.COMPLETED,
        platforms=["ios", "android"],
        target_kind="user_ids",
        user_ids=["ada", "bo"],
        custom_data={"screen": "offers"},
        title_en="Hi",
    )
    page = logged_in(bob).get(change_url(sent.pk)).content.decode()

    assert "iOS, Android" in page and "[&quot;ios&quot;, &quot;android&quot;]" not in page
    assert "ada, bo" in page and "screen = offers" in page


def test_the_picker_says_why_an_app_cannot_use_a_windows_template(bob, retail):
    page = logged_in(bob).get(f"{ADD}?app={retail.pk}").content.decode()

    assert "Needs Windows credentials: add them on the app&#x27;s page." in page
    assert "template=toast" not in page and "template=standard" in page

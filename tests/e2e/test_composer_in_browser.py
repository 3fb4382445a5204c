"""A marketer composes a toast in two languages, watches the preview, schedules it; errors show."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns.models import Notification, ScheduleKind, Status
from devices.registration import register_device
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def windows_devices(news):
    news.store_product_id = "9NBLGGH4R315"
    news.save()
    for n, locale in enumerate(["en-US", "fr-FR", "fr-CA"]):
        registration = {
            "platform": "windows",
            "channel_uri": f"https://db5.notify.windows.com/?token=device{n}",
            "locale": locale,
        }
        register_device(news, uuid.UUID(int=n + 1), registration)


def test_marketer_schedules_a_two_language_toast_for_six_pm_local(
    page: Page, live_server, bob, news, windows_devices
):
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/add/")
    page.select_option("#id_app", label="contoso/news")
    page.click("text=Promote a sale")
    expect(page.locator("#id_launch")).to_have_value(
        "ms-windows-store://pdp/?ProductId=9NBLGGH4R315"
    )
    page.fill("#id_name", "Weekend sale")

    page.fill("#id_title_en", "Half price this weekend")
    toast = page.locator("#preview-windows")
    expect(toast.locator(".preview-title")).to_have_text("Half price this weekend")
    expect(page.locator("#audience-estimate")).to_contain_text("3")

    page.click("#add-languages-button")
    page.locator("#add-languages-dialog input[name=languages][value=fr]").check()
    page.click("#add-languages-update")
    expect(page.locator("#language-tabs button[data-language=fr]")).to_be_visible()
    expect(page.locator("#id_title_fr")).to_have_value("[fr] Half price this weekend")
    page.select_option("#preview-language", "fr")
    expect(toast.locator(".preview-title")).to_have_text("[fr] Half price this weekend")

    page.check("input[name=schedule_kind][value=local]")
    tomorrow = (timezone.now() + timedelta(days=1)).date()
    page.fill("#id_local_send_at", f"{tomorrow:%Y-%m-%d}T18:00")
    page.click("#schedule-button")

    review = page.locator("#review-dialog")
    expect(review).to_contain_text("Everyone")
    expect(review).to_contain_text("Windows 3")
    expect(review).to_contain_text("[fr] Half price this weekend")
    expect(review).to_contain_text("18:00 in each recipient's time zone")
    assert not Notification.objects.exists()
    page.click("#confirm-button")

    expect(page.locator(".messagelist")).to_contain_text("Weekend sale is scheduled")
    expect(page.locator(".notification-status")).to_contain_text("Scheduled")
    page.goto(f"{live_server.url}/campaigns/notification/")
    row = page.locator("#result_list tbody tr", has_text="Weekend sale")
    expect(row).to_contain_text("Scheduled")
    expect(row).to_contain_text(f"{tomorrow:%Y-%m-%d} 18:00 local time")
    notification = Notification.objects.get()
    assert (notification.status, notification.schedule_kind) == (
        Status.SCHEDULED,
        ScheduleKind.LOCAL,
    )
    assert notification.languages == ["fr"]
    assert notification.title_fr == "[fr] Half price this weekend"


def test_enter_in_a_text_field_saves_a_draft_and_never_sends(page: Page, live_server, bob, retail):
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/add/?app={retail.pk}&template=standard")
    page.fill("#id_name", "Not yet")
    page.fill("#id_title_en", "Hello")
    page.press("#id_title_en", "Enter")

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert Notification.objects.get().status == Status.DRAFT


def test_going_back_from_the_review_queues_nothing(page: Page, live_server, bob, retail):
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/add/?app={retail.pk}&template=standard")
    page.fill("#id_name", "Second thoughts")
    page.fill("#id_title_en", "Hello")
    page.click("#schedule-button")
    expect(page.locator("#confirm-button")).to_have_text("Confirm and send to 0 devices")

    page.click("#review-back")
    expect(page.locator("#review-dialog")).to_be_hidden()
    page.click("#draft-button")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert Notification.objects.get().status == Status.DRAFT


def test_cancelling_a_notification_asks_first(page: Page, live_server, bob, retail):
    notification = Notification.objects.create(
        app=retail, name="Spring sale", status=Status.SCHEDULED, platforms=["ios"], title_en="Hi"
    )
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/{notification.pk}/change/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("text=Cancel notification")
    expect(page.locator(".notification-status")).to_contain_text("Scheduled")
    notification.refresh_from_db()
    assert notification.status == Status.SCHEDULED

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=Cancel notification")
    expect(page.locator(".messagelist")).to_contain_text("is cancelled")
    notification.refresh_from_db()
    assert notification.status == Status.CANCELLED


def test_an_invalid_form_shows_each_error_at_its_field(page: Page, live_server, bob, retail):
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/add/?app={retail.pk}&template=standard")
    page.fill("#id_name", "Broken")
    page.fill("#id_title_en", "Hi {{ user.nickname }}")
    page.fill("#id_image_url", "http://example.com/sale.png")
    page.check("input[name=schedule_kind][value=at]")
    page.fill("#id_send_at", "2020-01-01T09:00")
    page.click("#schedule-button")

    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".field-title_en .errorlist")).to_contain_text("user.nickname")
    expect(page.locator(".field-image_url .errorlist")).to_contain_text("https")
    expect(page.locator(".field-send_at .errorlist")).to_contain_text("in the future")
    assert not Notification.objects.exists()


def test_a_sent_notification_shows_what_it_sent(page: Page, live_server, bob, retail):
    notification = Notification.objects.create(
        app=retail,
        name="Spring sale",
        status=Status.COMPLETED,
        platforms=["ios"],
        title_en="Spring is here",
        body_en="Everything green is half price.",
    )
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/{notification.pk}/change/")
    expect(page.locator("#preview-ios .preview-title")).to_have_text("Spring is here")
    expect(page.locator("#payload-ios pre")).to_contain_text("Everything green is half price.")
    expect(page.locator("#audience-estimate")).to_contain_text("completed")
    expect(page.locator("#schedule-button")).to_have_count(0)


def test_changing_the_default_text_names_the_translations_that_will_not_follow(
    page: Page, live_server, bob, retail
):
    notification = Notification.objects.create(
        app=retail,
        name="Spring sale",
        platforms=["ios"],
        title_en="Spring is here",
        languages=["fr"],
        overridden_languages=["fr"],
        title_fr="Le printemps, à notre façon",
    )
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/{notification.pk}/change/")
    page.fill("#id_title_en", "Summer is here")

    note = page.locator("#stale-overrides")
    expect(note).to_contain_text("French: your own translation will not follow this change.")
    note.locator("button").click()
    expect(note).to_be_hidden()
    expect(page.locator("input[name=revert_languages][value=fr]")).to_be_checked()
    page.click("#draft-button")

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    notification.refresh_from_db()
    assert notification.title_fr == "[fr] Summer is here"
    assert notification.overridden_languages == []


def test_the_preview_is_personalized_for_the_device_or_user_picked(
    page: Page, live_server, bob, retail
):
    for user, token in (("ada", "aa"), ("bo", "bb")):
        register_device(
            retail, uuid.uuid4(), {"platform": "ios", "push_token": token * 32, "user_id": user}
        )
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/add/?app={retail.pk}&template=standard")
    page.fill("#id_title_en", "Hi {{ user.id }}")
    title = page.locator("#preview-ios .preview-title")
    expect(title).to_have_text("Hi bo")
    expect(page.locator(".preview-sample")).to_contain_text("recently seen iOS device")

    page.fill("#preview-as", "ada")
    page.press("#preview-as", "Enter")
    expect(title).to_have_text("Hi ada")
    expect(page.locator(".preview-sample")).to_contain_text("the device you picked")
    assert not Notification.objects.exists()

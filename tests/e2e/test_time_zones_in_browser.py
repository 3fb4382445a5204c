"""The dashboard takes the browser's time zone until the user chooses another."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from pushcenter.models import UserTimeZone
from tests.e2e.conftest import TIMEOUT_MS, login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_times_are_in_the_browsers_zone_until_the_user_chooses_one(
    browser: Browser, live_server, bob, retail
):
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Tokyo")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    login(page, live_server, bob)
    expect(page.locator("#time-zone-link")).to_have_text("Time zone: Asia/Tokyo")
    page.goto(f"/campaigns/notification/add/?app={retail.pk}&template=standard")
    expect(page.locator("label[for=id_send_at]")).to_contain_text("Send at (Asia/Tokyo)")

    page.click("#time-zone-link")
    page.select_option("#id_time_zone", "Europe/Paris")
    page.click("input[type=submit]")

    expect(page.locator("label[for=id_send_at]")).to_contain_text("Send at (Europe/Paris)")
    assert UserTimeZone.objects.get(user=bob).time_zone == "Europe/Paris"
    context.close()

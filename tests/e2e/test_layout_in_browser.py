"""Each role's main pages fit a phone (390 px) and a laptop (1366 px) without sideways scrolling.

Wide tables may scroll inside their own box; the page itself never does. On a laptop the
notifications list shows its last column whole.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login
from tests.e2e.dashboard_pages import app_administrator_pages, developer_pages, marketer_pages

pytest_plugins = ["tests.sandbox"]
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}


def overflowing(page: Page, live_server, paths: list[str]) -> list[str]:
    """Open each path at each width; name those whose page is wider than the window."""
    found = []
    for viewport in (PHONE, LAPTOP):
        page.set_viewport_size(viewport)
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > viewport["width"]:
                found.append(f"{path} at {viewport['width']} px is {scroll_width} px wide")
    return found


def test_a_marketers_pages_fit_a_phone_and_a_laptop(page: Page, live_server, sandbox, bob, retail):
    paths = marketer_pages(retail)
    login(page, live_server, bob)
    found = overflowing(page, live_server, paths)
    assert not found, "\n".join(found)


def test_an_app_administrators_pages_fit_a_phone_and_a_laptop(
    page: Page, live_server, alice, retail
):
    paths = app_administrator_pages(retail)
    login(page, live_server, alice)
    found = overflowing(page, live_server, paths)
    assert not found, "\n".join(found)


def test_a_developers_pages_fit_a_phone_and_a_laptop(page: Page, live_server, carol, retail):
    paths = developer_pages(retail)
    login(page, live_server, carol)
    found = overflowing(page, live_server, paths)
    assert not found, "\n".join(found)


def test_the_notifications_list_shows_its_last_column_on_a_laptop(
    page: Page, live_server, sandbox, bob, retail
):
    marketer_pages(retail)
    page.set_viewport_size(LAPTOP)
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/")
    last = page.locator("#result_list thead th").last
    expect(last).to_be_visible()
    box = last.bounding_box()
    frame = page.locator("#changelist .results").bounding_box()
    assert box is not None and frame is not None
    assert box["x"] + box["width"] <= min(frame["x"] + frame["width"], LAPTOP["width"]) + 1


def test_on_a_phone_the_composer_shows_its_preview_on_demand(page: Page, live_server, bob, retail):
    page.set_viewport_size(PHONE)
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/add/?app={retail.pk}&template=standard")
    toggle = page.locator("#preview-toggle")
    preview = page.locator("#composer-preview")
    expect(toggle).to_have_text("Show preview")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(preview).to_be_hidden()

    toggle.click()
    expect(toggle).to_have_text("Hide preview")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(preview).to_be_visible()
    assert preview.bounding_box()["y"] - toggle.bounding_box()["y"] < PHONE["height"]

    toggle.click()
    expect(preview).to_be_hidden()


def test_on_a_laptop_the_composer_shows_its_preview_beside_the_form(
    page: Page, live_server, bob, retail
):
    page.set_viewport_size(LAPTOP)
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/add/?app={retail.pk}&template=standard")
    expect(page.locator("#preview-toggle")).to_be_hidden()
    preview = page.locator("#composer-preview")
    expect(preview).to_be_visible()
    form = page.locator(".composer-form").bounding_box()
    assert preview.bounding_box()["x"] >= form["x"] + form["width"]

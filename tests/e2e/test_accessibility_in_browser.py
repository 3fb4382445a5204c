"""Each role's main pages pass axe-core with no serious or critical violation.

axe-core is vendored under pushcenter/static/vendor/axe-core/ and injected into each page by
the test; no page of the dashboard loads it itself. It is added as a script from our own
origin: the Content-Security-Policy refuses inline scripts, the injected one included.
"""

from __future__ import annotations

import pytest
from django.templatetags.static import static
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login
from tests.e2e.dashboard_pages import app_administrator_pages, developer_pages, marketer_pages

pytest_plugins = ["tests.sandbox"]
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

AXE = "vendor/axe-core/axe.min.js"
BLOCKING = {"serious", "critical"}


def violations(page: Page) -> list[str]:
    """Run axe on the page as it is now; name each serious or critical violation and where."""
    page.add_script_tag(url=static(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{page.url}: {v['id']} ({v['impact']}) at {[node['target'] for node in v['nodes']]}"
        for v in found
        if v["impact"] in BLOCKING
    ]


def check_pages(page: Page, live_server, paths: list[str]) -> list[str]:
    """Open each path, let its scripts settle, and gather what axe finds."""
    found = []
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        found += violations(page)
    return found


def test_a_marketers_pages_have_no_serious_violation(page: Page, live_server, sandbox, bob, retail):
    paths = [path for path in marketer_pages(retail) if not is_ab_test_page(path)]
    login(page, live_server, bob)
    found = check_pages(page, live_server, paths)
    assert not found, "\n".join(found)


def test_an_ab_test_page_has_no_serious_violation(page: Page, live_server, sandbox, bob, retail):
    paths = [path for path in marketer_pages(retail) if is_ab_test_page(path)]
    login(page, live_server, bob)
    found = check_pages(page, live_server, paths)
    assert not found, "\n".join(found)


def is_ab_test_page(path: str) -> bool:
    """Tell whether the path is one A/B test's page (not the list)."""
    return path.startswith("/experiments/experiment/") and path.endswith("/change/")


def test_the_composers_review_dialog_has_no_serious_violation(page: Page, live_server, bob, retail):
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/add/?app={retail.pk}&template=standard")
    page.fill("#id_name", "Weekend")
    page.fill("#id_title_en", "Hello")
    page.click("#schedule-button")
    expect(page.locator("#confirm-button")).to_contain_text("Confirm")
    found = violations(page)
    assert not found, "\n".join(found)


def test_an_app_administrators_pages_have_no_serious_violation(
    page: Page, live_server, alice, retail
):
    paths = app_administrator_pages(retail)
    login(page, live_server, alice)
    found = check_pages(page, live_server, paths)
    assert not found, "\n".join(found)


def test_a_developers_pages_have_no_serious_violation(page: Page, live_server, carol, retail):
    paths = developer_pages(retail)
    login(page, live_server, carol)
    found = check_pages(page, live_server, paths)
    assert not found, "\n".join(found)


def test_the_composers_platform_tabs_answer_arrow_keys(page: Page, live_server, bob, retail):
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/add/?app={retail.pk}&template=standard")
    # retail sends to iOS and Android: two tabs.
    tabs = page.locator("#preview-platform-tabs [role=tab]:visible")
    expect(tabs).to_have_count(2)
    first, last = tabs.nth(0), tabs.nth(1)
    expect(first).to_have_attribute("aria-selected", "true")
    expect(first).to_have_attribute("tabindex", "0")
    expect(last).to_have_attribute("tabindex", "-1")

    first.focus()
    page.keyboard.press("ArrowRight")
    expect(last).to_be_focused()
    expect(last).to_have_attribute("aria-selected", "true")
    expect(first).to_have_attribute("tabindex", "-1")
    expect(page.locator("#preview-android")).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(first).to_be_focused()
    expect(first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowLeft")
    expect(last).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Home")
    expect(first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("End")
    expect(last).to_be_focused()
    expect(last).to_have_attribute("aria-selected", "true")


def test_the_composers_language_tabs_answer_arrow_keys(page: Page, live_server, bob, retail):
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/add/?app={retail.pk}&template=standard")
    page.click("#add-languages-button")
    page.locator("#add-languages-dialog input[name=languages][value=fr]").check()
    page.click("#add-languages-update")
    tabs = page.locator("#language-tabs [role=tab]")
    expect(tabs).to_have_count(2)
    tabs.nth(0).click()
    page.keyboard.press("ArrowRight")
    expect(tabs.nth(1)).to_be_focused()
    expect(tabs.nth(1)).to_have_attribute("aria-selected", "true")
    expect(page.locator("#language-panel-fr")).to_be_visible()
    page.keyboard.press("Home")
    expect(tabs.nth(0)).to_have_attribute("aria-selected", "true")
    expect(tabs.nth(1)).to_have_attribute("tabindex", "-1")

"""Under the Content-Security-Policy, the main dashboard pages and the API docs work in Chromium
and log no violation and no console error."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import Notification
from segments.models import Segment
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Runs before any page script: the browser reports each blocked script, style or image here.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


class Problems:
    """Console errors, uncaught page errors and policy violations, page by page."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.found: list[str] = []
        page.context.add_init_script(RECORD_VIOLATIONS)
        page.on("console", lambda message: self._console(message.type, message.text))
        page.on("pageerror", lambda error: self.found.append(f"{page.url}: {error}"))
        page.on("response", lambda response: self._response(response.status, response.url))

    def _console(self, kind: str, text: str) -> None:
        # A failed load is logged without its URL; _response names it.
        if kind == "error" and not text.startswith("Failed to load resource"):
            self.found.append(f"{self.page.url}: {text}")

    def _response(self, status: int, url: str) -> None:
        # The browser asks for /favicon.ico on its own; the dashboard names no icon.
        if status >= 400 and not url.endswith("/favicon.ico"):
            self.found.append(f"{self.page.url}: {status} from {url}")

    def visit(self, url: str) -> None:
        """Open the page, let its scripts and requests settle, and collect its violations."""
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")
        for violation in self.page.evaluate("window.__cspViolations"):
            self.found.append(f"{url}: {violation}")


def test_dashboard_pages_and_api_docs_log_no_policy_violation(
    page: Page, live_server, root, retail, news
):
    notification = Notification.objects.create(
        app=retail, name="Sale", platforms=["ios"], title_en="Half price", body_en="Today only."
    )
    segment = Segment.objects.create(app=retail, name="Fans", definition="appVersion ge '2.0'")
    problems = Problems(page)
    base = live_server.url

    problems.visit(f"{base}/login/")
    problems.visit(f"{base}/password_reset/")
    login(page, live_server, root)
    for path in (
        "/",
        "/devices/mobileapp/",
        f"/devices/mobileapp/{retail.pk}/change/",
        f"/devices/mobileapp/{retail.pk}/metrics/",
        "/devices/device/",
        "/devices/apitoken/add/",
        "/segments/segment/add/",
        f"/segments/segment/{segment.pk}/change/",
        "/campaigns/notification/",
        "/campaigns/notification/add/",
        f"/campaigns/notification/add/?app={retail.pk}&template=standard",
        f"/campaigns/notification/{notification.pk}/change/",
        f"/campaigns/notification/{notification.pk}/metrics/",
        "/experiments/experiment/",
        "/journeys/journey/add/",
        "/auth/user/add/",
    ):
        problems.visit(f"{base}{path}")
    # The composer's live preview and the charts are drawn by scripts the policy must allow.
    problems.visit(f"{base}/campaigns/notification/{notification.pk}/change/")
    expect(page.locator("#id_title_en")).to_be_visible()
    problems.visit(f"{base}/devices/mobileapp/{retail.pk}/metrics/")
    expect(page.locator("canvas").first).to_be_visible()

    # The template picker's app menu reloads the page by a listener, not an inline handler.
    problems.visit(f"{base}/campaigns/notification/add/")
    page.select_option("#id_app", str(news.pk))
    expect(page).to_have_url(f"{base}/campaigns/notification/add/?app={news.pk}")

    problems.visit(f"{base}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Push Center API")

    assert problems.found == []

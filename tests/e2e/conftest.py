"""Browser fixtures: one headless Chromium per session, a fresh page per test, and `login`.

The dashboard runs under pytest-django's `live_server`; each test starts a new browser context
so that no cookie or session leaks from one persona to the next. A failing test leaves a
screenshot of its page under /tmp/pushcenter-e2e/.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import PASSWORD

# Playwright's sync API runs an asyncio loop in this thread; Django's ORM calls made by the
# tests themselves (fixtures, checks of what was stored) are still synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOT_DIR = Path("/tmp/pushcenter-e2e")
TIMEOUT_MS = 15_000


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Keep each phase's report on the test item, so the page fixture knows a test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Keep the browser tests' SQLite test database in a file, not in memory.

    In memory, Django shares one connection among the live server's threads, so the requests a
    browser makes at once (a preview while the form is sent) would run on one connection
    together; in a file each thread has its own connection, as with PostgreSQL.
    """
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        name = tmp_path_factory.mktemp("e2e-database") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(name)


@pytest.fixture(scope="session")
def browser(django_db_setup, live_server) -> Iterator[Browser]:
    """Chromium, started once the test databases and the live server exist, closed before.

    Playwright's sync API keeps an asyncio loop running in this thread, and while a loop runs
    Django keeps its connections in context-local rather than thread-local storage: without
    help, the tests would get new connection objects, lacking what the test-database setup put
    on the old ones (such as the serialized contents that restore the roles after each
    transactional test). So the connections made before Playwright starts are handed on.

    Closing Chromium ends its kept-alive connections to the live server; their request threads
    are waited for, so that none of them still uses the database once the server stops.
    """
    before_playwright = {alias: connections[alias] for alias in connections}
    with sync_playwright() as playwright:
        for alias, connection in before_playwright.items():
            connections[alias] = connection
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()
    _wait_for_request_threads()


def _wait_for_request_threads() -> None:
    """Wait for the live server's threads still serving requests of the closed browser."""
    for thread in threading.enumerate():
        if thread.name.endswith("(process_request_thread)"):
            thread.join(timeout=10)


@pytest.fixture
def page(browser: Browser, live_server, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in its own browser context, pointed at the live dashboard."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 1024}
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        try:
            page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)
            (SCREENSHOT_DIR / f"{name}.html").write_text(page.content())
        except Exception as error:  # noqa: BLE001 - a screenshot must never hide the failure
            print(f"could not save a screenshot of the failed page: {error}")
    context.close()


def login(page: Page, live_server, user: User) -> None:
    """Log a persona in through the dashboard's login form and land on the overview."""
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("#user-tools")).to_contain_text(user.username, ignore_case=True)

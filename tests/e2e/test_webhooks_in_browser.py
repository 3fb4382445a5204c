"""Webhooks in the dashboard: an endpoint's secret is shown once, a dead letter is seen and
replayed."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login
from webhooks.models import Batch, BatchStatus, Endpoint

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SECRET_TEXT = re.compile(r"^whsec_[A-Za-z0-9_-]{40,}$")


def test_an_endpoint_shows_its_secret_once_and_a_dead_letter_is_replayed(
    page: Page, live_server, alice, retail, news
):
    login(page, live_server, alice)

    page.goto(f"{live_server.url}/webhooks/endpoint/add/")
    page.select_option("#id_app", label="contoso/retail")
    page.fill("#id_url", "https://93.184.215.14/hooks")
    page.get_by_label("Launched — the app reported a launch from it").uncheck()
    page.click("input[name=_save]")

    shown = page.locator("#webhook-secret")
    expect(shown).to_have_text(SECRET_TEXT)
    secret = shown.inner_text()
    endpoint = Endpoint.objects.get(app=retail)
    assert endpoint.signing_secrets() == [secret]
    assert "launched" not in endpoint.kinds and "sent" in endpoint.kinds

    page.click("#secret-done")
    expect(page).to_have_url(f"{live_server.url}/webhooks/endpoint/{endpoint.pk}/change/")
    assert secret not in page.content()
    page.goto(f"{live_server.url}/webhooks/endpoint/{endpoint.pk}/secret/")
    expect(page.locator(".messagelist")).to_contain_text("shown once already")
    assert secret not in page.content()

    dead = Batch.objects.create(
        endpoint=endpoint,
        body='{"events":[]}',
        event_count=3,
        status=BatchStatus.DEAD,
        attempts=8,
        last_error="HTTP 500",
        finished_at=timezone.now(),
    )
    page.goto(f"{live_server.url}/webhooks/endpoint/{endpoint.pk}/change/")
    page.click("#dead-letters-link")
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("HTTP 500")

    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "replay")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("Replaying 1 dead letter(s).")
    dead.refresh_from_db()
    assert dead.status == BatchStatus.PENDING and dead.attempts == 0

"""API tokens in the dashboard: the plain text is shown once at creation, then only its prefix."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from devices.models import ApiToken
from devices.services import hash_token
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TOKEN_TEXT = re.compile(r"^pc_[A-Za-z0-9_-]{40,}$")


def test_app_administrator_creates_an_api_token_and_sees_it_only_once(
    page: Page, live_server, alice, retail, news
):
    login(page, live_server, alice)

    page.locator("#content-main #devices-apitoken ~ td a.addlink").click()
    expect(page.locator("h1")).to_have_text("Add API token")
    page.select_option("#id_app", label="contoso/retail")
    expect(page.locator("#content-main")).to_contain_text("it must never ship inside an app")
    page.get_by_label("Server token").check()
    page.fill("#id_name", "Checkout backend")
    page.click("input[name=_save]")

    shown = page.locator("#api-token")
    expect(shown).to_have_text(TOKEN_TEXT)
    plaintext = shown.inner_text()
    expect(page.locator("#content-main")).to_contain_text("Checkout backend")
    expect(page.locator("#content-main")).to_contain_text("contoso/retail")
    expect(page.locator(".token-kind")).to_contain_text("Keep this server token on your servers")

    token = ApiToken.objects.get(name="Checkout backend")
    assert token.app == retail
    assert token.created_by == alice
    assert token.token_hash == hash_token(plaintext)
    assert plaintext.startswith(token.prefix) and len(token.prefix) < len(plaintext)
    assert plaintext not in token.token_hash

    page.get_by_role("link", name="Done", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/devices/apitoken/")
    row = page.locator("#result_list tbody tr", has_text="Checkout backend")
    expect(row.locator(".field-masked")).to_have_text(f"{token.prefix}…")
    assert plaintext not in page.content()

    row.get_by_role("link", name="Checkout backend", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/devices/apitoken/{token.pk}/change/")
    page.reload()
    expect(page.locator(".field-masked .readonly")).to_have_text(f"{token.prefix}…")
    expect(page.locator("#api-token")).to_have_count(0)
    assert plaintext not in page.content()
    assert ApiToken.objects.filter(name="Checkout backend").count() == 1

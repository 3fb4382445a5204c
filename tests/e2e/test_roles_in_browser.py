"""Each role logs in and sees, in its landing page and menus, exactly what its role grants."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from devices.services import issue_api_token
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CREDENTIAL_GROUPS = ["#apns_credential-group", "#fcm_credential-group", "#wns_credential-group"]


def landing_page_models(page: Page) -> list[str]:
    """The model links the landing page's app list offers."""
    return page.locator("#content-main .module th[scope=row] a").all_inner_texts()


def sidebar_models(page: Page) -> list[str]:
    """The model links of the navigation sidebar shown beside every other page."""
    expect(page.locator("#nav-sidebar")).to_be_attached()
    return page.locator("#nav-sidebar th[scope=row] a").all_inner_texts()


def test_app_administrator_sees_apps_organizations_api_tokens_and_users(
    page: Page, live_server, alice, retail, news
):
    login(page, live_server, alice)

    models = landing_page_models(page)
    for name in ("Mobile apps", "Organizations", "API tokens", "Users"):
        assert name in models
    expect(page.locator('[data-count="apps"] .dashboard-count-value')).to_have_text("2")
    expect(page.locator("#content-main #devices-mobileapp ~ td a.addlink")).to_be_visible()
    expect(page.locator("#content-main #devices-apitoken ~ td a.addlink")).to_be_visible()

    page.locator("#content-main").get_by_role("link", name="Mobile apps", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/devices/mobileapp/")
    for name in ("Mobile apps", "Organizations", "API tokens", "Users"):
        assert name in sidebar_models(page)
    expect(page.locator("#result_list")).to_contain_text("contoso/retail")
    expect(page.locator("#result_list")).to_contain_text("contoso/news")

    page.get_by_role("link", name="Retail", exact=True).click()
    expect(page.locator("h1")).to_have_text("Change mobile app")
    for group in CREDENTIAL_GROUPS:
        expect(page.locator(group)).to_be_visible()


def test_marketer_sees_mobile_apps_without_tokens_users_or_credentials(
    page: Page, live_server, bob, retail, news
):
    issue_api_token(retail, "Retail backend")
    login(page, live_server, bob)

    models = landing_page_models(page)
    assert "Mobile apps" in models
    for name in ("API tokens", "Users", "Groups"):
        assert name not in models
    expect(page.locator("#content-main #devices-mobileapp ~ td a.addlink")).to_have_count(0)

    page.locator("#content-main").get_by_role("link", name="Mobile apps", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/devices/mobileapp/")
    sidebar = sidebar_models(page)
    assert "Mobile apps" in sidebar
    assert "API tokens" not in sidebar
    assert "Users" not in sidebar

    page.get_by_role("link", name="Retail", exact=True).click()
    expect(page.locator("h1")).to_have_text("View mobile app")
    expect(page.locator("#content-main")).to_contain_text("retail")
    for group in CREDENTIAL_GROUPS:
        expect(page.locator(group)).to_have_count(0)
    content = page.locator("#content-main")
    for text in ("APNs credential", "FCM credential", "WNS credential", "Secret", "validation"):
        expect(content).not_to_contain_text(text)
    # Credential fields are not on the page, not even read-only.
    for text in ("ABCDE12345", "TEAM123456", "com.contoso.retail", "contoso-retail.iam"):
        assert text not in page.content()

    response = page.goto(f"{live_server.url}/devices/apitoken/")
    assert response is not None and response.status == 403
    response = page.goto(f"{live_server.url}/auth/user/")
    assert response is not None and response.status == 403


def test_developer_sees_only_the_api_tokens_of_her_own_app(
    page: Page, live_server, carol, retail, news
):
    retail_token, retail_plaintext = issue_api_token(retail, "Retail backend")
    news_token, news_plaintext = issue_api_token(news, "News backend")
    login(page, live_server, carol)

    models = landing_page_models(page)
    assert "API tokens" in models
    for name in ("Users", "Groups", "Organizations"):
        assert name not in models

    page.locator("#content-main").get_by_role("link", name="API tokens", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/devices/apitoken/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.locator(".field-name")).to_have_text("Retail backend")
    expect(rows.locator(".field-app")).to_have_text("contoso/retail")
    expect(rows.locator(".field-masked")).to_have_text(f"{retail_token.prefix}…")
    html = page.content()
    assert "News backend" not in html
    assert news_token.prefix not in html
    assert retail_plaintext not in html
    assert news_plaintext not in html

    # The news token's own page does not open for her either.
    page.goto(f"{live_server.url}/devices/apitoken/{news_token.pk}/change/")
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".messagelist")).to_contain_text(re.compile("doesn.t exist"))
    assert "News backend" not in page.content()
    assert news_token.prefix not in page.content()

    # And she can only create tokens for her own app.
    page.goto(f"{live_server.url}/devices/apitoken/add/")
    options = page.locator("#id_app option").all_inner_texts()
    assert [option for option in options if option != "---------"] == ["contoso/retail"]

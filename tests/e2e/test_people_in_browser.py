"""People, credentials and error pages in the browser: a new marketer logs in with only a role,
a refused credential save names the file to choose again, and a forbidden page keeps the person
inside the dashboard with a way back."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from devices import sample_credentials
from devices.models import ApnsCredential
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

GIVE_FILE_AGAIN = "Choose the file again: it was not saved because the page had errors."


def choose(page: Page, field: str, label: str) -> None:
    """Move one choice to the chosen side of a two-box selector, as a person does."""
    page.select_option(f"#id_{field}_from", label=label)
    page.click(f"#id_{field}_add")
    expect(page.locator(f"#id_{field}_to option", has_text=label)).to_have_count(1)


def test_a_marketer_added_by_an_app_administrator_logs_in(
    page: Page, live_server, alice, organization, retail
):
    login(page, live_server, alice)
    page.locator("#content-main #auth-user ~ td a.addlink").click()
    expect(page.locator("h1")).to_have_text("Add user")
    expect(page.locator("#id_is_staff")).to_have_count(0)
    page.fill("#id_username", "erin")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    choose(page, "groups", "Marketer")
    choose(page, "member_organizations", "Contoso")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")

    erin = User.objects.get(username="erin")
    assert not erin.is_staff and [g.name for g in erin.groups.all()] == ["Marketer"]
    page.locator("#logout-form button").click()
    login(page, live_server, erin)
    page.locator("#content-main #campaigns-notification a").click()
    expect(page).to_have_url(f"{live_server.url}/campaigns/notification/")


def test_a_refused_credential_save_says_which_file_to_choose_again(
    page: Page, live_server, alice, news, tmp_path: Path
):
    key_file = tmp_path / "AuthKey_ABCDE12345.p8"
    key_file.write_bytes(sample_credentials.p8_signing_key())
    login(page, live_server, alice)
    page.goto(f"{live_server.url}/devices/mobileapp/{news.pk}/change/")
    page.fill("#id_display_name", "")
    page.select_option("#id_apns_credential-0-auth_method", "token")
    page.fill("#id_apns_credential-0-key_id", "ABCDE12345")
    page.fill("#id_apns_credential-0-team_id", "TEAM123456")
    page.fill("#id_apns_credential-0-bundle_id", "com.contoso.news")
    page.set_input_files("#id_apns_credential-0-signing_key", str(key_file))
    page.click("input[name=_save]")

    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator("#id_apns_credential-0-signing_key")).to_have_value("")
    key_help = page.locator("#id_apns_credential-0-signing_key_helptext")
    expect(key_help).to_contain_text(GIVE_FILE_AGAIN)
    expect(key_help.locator("strong.give-again")).to_be_visible()
    expect(page.locator("#id_apns_credential-0-certificate_helptext")).not_to_contain_text("again")
    assert not ApnsCredential.objects.filter(app=news).exists()

    page.fill("#id_display_name", "News")
    page.set_input_files("#id_apns_credential-0-signing_key", str(key_file))
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    assert ApnsCredential.objects.get(app=news).auth_method == ApnsCredential.AuthMethod.TOKEN


def test_a_forbidden_page_is_styled_with_a_way_back(page: Page, live_server, bob, retail):
    login(page, live_server, bob)
    apps_list = f"{live_server.url}/devices/mobileapp/"
    page.goto(f"{apps_list}{retail.pk}/delete/", referer=apps_list)

    expect(page.locator("h1")).to_have_text("You may not open this page")
    expect(page.locator("#site-name")).to_have_text("Push Center")
    expect(page.locator("#user-tools")).to_contain_text("bob", ignore_case=True)
    header = page.locator("#header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header not in ("rgba(0, 0, 0, 0)", "transparent")
    back_to_list = page.get_by_role("link", name="Back to Mobile apps")
    expect(back_to_list).to_be_visible()
    expect(page.get_by_role("link", name="Back to the previous page")).to_be_visible()
    back_to_list.click()
    expect(page).to_have_url(f"{live_server.url}/devices/mobileapp/")
    expect(page.locator("#result_list")).to_contain_text("contoso/retail")

    page.goto(f"{live_server.url}/auth/user/")
    expect(page.locator("h1")).to_have_text("You may not open this page")
    page.get_by_role("link", name="Back to the dashboard home").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".dashboard-counts")).to_be_visible()

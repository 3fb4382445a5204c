"""Each role sees and changes only what it should, in pages and in POSTs."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from campaigns.models import SendingRules
from devices.models import ApiToken, MobileApp
from devices.services import issue_api_token
from pushcenter.roles import ROLES
from tests.conftest import PASSWORD, logged_in
from tests.html_forms import read_form


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_holds_exactly_its_listed_permissions(db, role):
    held = {
        (p.content_type.app_label, p.codename)
        for p in Group.objects.get(name=role).permissions.select_related("content_type")
    }
    listed = {(app, codename) for app, codenames in ROLES[role].items() for codename in codenames}
    assert held == listed


PAGES = {
    "/devices/organization/": {"alice": 200, "bob": 200, "carol": 403},
    "/devices/organization/add/": {"alice": 200, "bob": 403, "carol": 403},
    "/devices/mobileapp/": {"alice": 200, "bob": 200, "carol": 200},
    "/devices/mobileapp/add/": {"alice": 200, "bob": 403, "carol": 403},
    "/devices/apitoken/": {"alice": 200, "bob": 403, "carol": 200},
    "/devices/apitoken/add/": {"alice": 200, "bob": 403, "carol": 200},
    "/auth/user/": {"alice": 200, "bob": 403, "carol": 403},
    "/auth/user/add/": {"alice": 200, "bob": 403, "carol": 403},
    "/auth/group/": {"alice": 200, "bob": 403, "carol": 403},
}


@pytest.mark.parametrize("path", list(PAGES))
def test_each_role_reaches_only_its_pages(alice, bob, carol, path):
    for user in (alice, bob, carol):
        status = logged_in(user).get(path).status_code
        assert status == PAGES[path][user.username], f"{user.username} GET {path}: {status}"


def test_a_marketer_sees_apps_but_no_credentials(bob, retail):
    html = logged_in(bob).get(f"/devices/mobileapp/{retail.pk}/change/").content.decode()
    assert "Retail" in html
    assert "apns_credential-TOTAL_FORMS" not in html and "APNs credential" not in html


def test_a_marketer_cannot_change_an_app_by_post(bob, retail):
    response = logged_in(bob).post(
        f"/devices/mobileapp/{retail.pk}/change/",
        {"organization": retail.organization_id, "name": "retail", "display_name": "Hijacked"},
    )
    assert response.status_code == 403
    assert MobileApp.objects.get(pk=retail.pk).display_name == "Retail"


def test_a_marketer_reads_the_apps_sending_rules_and_cannot_change_them(bob, retail):
    client = logged_in(bob)
    html = client.get(f"/devices/mobileapp/{retail.pk}/change/").content.decode()
    assert "Minimum minutes between notifications" in html
    assert 'name="sending_rules-0-min_interval_minutes"' not in html
    assert 'name="segment_com_source-0-shared_secret"' not in html

    response = client.post(
        f"/devices/mobileapp/{retail.pk}/change/",
        {
            "sending_rules-TOTAL_FORMS": "1",
            "sending_rules-INITIAL_FORMS": "0",
            "sending_rules-0-min_interval_minutes": "0",
        },
    )
    assert response.status_code == 403
    assert not SendingRules.objects.exists()


def test_a_marketer_cannot_create_a_token_by_post(bob, retail):
    response = logged_in(bob).post("/devices/apitoken/add/", {"app": retail.pk, "name": "mine"})
    assert response.status_code == 403
    assert not ApiToken.objects.exists()


def test_a_developer_sees_only_the_tokens_of_their_apps(carol, retail, news):
    mine, _ = issue_api_token(retail, "Retail backend")
    theirs, _ = issue_api_token(news, "News backend")
    client = logged_in(carol)
    listing = client.get("/devices/apitoken/").content.decode()
    assert "Retail backend" in listing and "News backend" not in listing
    assert client.get(f"/devices/apitoken/{mine.pk}/change/").status_code == 200
    assert client.get(f"/devices/apitoken/{theirs.pk}/change/").status_code == 302


def test_a_developer_cannot_create_a_token_for_another_app_by_post(carol, news):
    response = logged_in(carol).post("/devices/apitoken/add/", {"app": news.pk, "name": "sneaky"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_developer_cannot_revoke_another_apps_token_by_post(carol, news):
    theirs, _ = issue_api_token(news, "News backend")
    logged_in(carol).post(
        "/devices/apitoken/", {"action": "revoke", "_selected_action": [theirs.pk]}
    )
    theirs.refresh_from_db()
    assert theirs.is_active


def test_a_developer_sees_only_their_apps(carol, retail, news):
    client = logged_in(carol)
    listing = client.get("/devices/mobileapp/").content.decode()
    assert "contoso/retail" in listing and "contoso/news" not in listing
    assert client.get(f"/devices/mobileapp/{news.pk}/change/").status_code == 302
    issue_api_token(retail, "Retail backend")
    tokens = client.get("/devices/apitoken/").content.decode()
    assert "contoso/news" not in tokens


def test_a_marketer_of_an_organization_sees_its_apps(bob, retail, news):
    listing = logged_in(bob).get("/devices/mobileapp/").content.decode()
    assert "contoso/retail" in listing and "contoso/news" in listing


def test_the_add_page_promises_ids_rather_than_inventing_them(alice, organization):
    page = logged_in(alice).get("/devices/mobileapp/add/").content.decode()
    assert page.count("given when saved") == 2


def test_a_developer_cannot_reach_credentials(carol, retail):
    html = logged_in(carol).get(f"/devices/mobileapp/{retail.pk}/change/").content.decode()
    assert "apns_credential-TOTAL_FORMS" not in html


def test_an_app_administrator_does_not_see_superusers(alice, root):
    listing = logged_in(alice).get("/auth/user/").content.decode()
    assert "alice" in listing and ">root<" not in listing
    assert logged_in(alice).get(f"/auth/user/{root.pk}/change/").status_code == 302


def test_an_app_administrator_cannot_grant_superuser_status(alice, bob):
    client = logged_in(alice)
    page = client.get(f"/auth/user/{bob.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page and 'name="user_permissions"' not in page
    data = read_form(page, "user_form")
    data.update({"is_superuser": "on", "user_permissions": ["1", "2"]})
    assert client.post(f"/auth/user/{bob.pk}/change/", data).status_code == 302
    bob.refresh_from_db()
    assert not bob.is_superuser and not bob.user_permissions.exists()


def test_an_app_administrator_assigns_only_roles(alice, bob):
    Group.objects.create(name="Hand-made group")
    page = logged_in(alice).get(f"/auth/user/{bob.pk}/change/").content.decode()
    assert "Hand-made group" not in page and "Marketer" in page


def test_an_app_administrator_cannot_edit_what_a_role_may_do(alice):
    marketer = Group.objects.get(name="Marketer")
    response = logged_in(alice).post(f"/auth/group/{marketer.pk}/change/", {"name": "Marketer"})
    assert response.status_code == 403


def test_an_app_administrator_creates_a_user_who_can_log_in(alice, organization, client):
    response = logged_in(alice).post(
        "/auth/user/add/",
        {
            "username": "erin",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
            "member_organizations": [organization.pk],
        },
    )
    assert response.status_code == 302
    erin = User.objects.get(username="erin")
    assert list(erin.member_organizations.all()) == [organization]

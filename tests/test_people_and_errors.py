"""People and credentials in the dashboard, and the error pages that keep a person inside it.

- A role lets a person log in; no separate staff status is needed, and no role means no login.
- A credential's page says "set on" only for the parts of its secret that are stored, and after
  a refused save it names each file (and password) that must be given again.
- 403 and 404 are the dashboard's own pages, with its header and a way back; 500 renders with
  no context at all; the API's errors stay JSON.
- A notification's author links to their page only for whoever may open it.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import loader
from django.test import Client, RequestFactory
from django.urls import get_resolver

from campaigns.models import Notification
from devices import sample_credentials
from devices.models import ApnsCredential, MobileApp
from pushcenter import roles
from tests.conftest import PASSWORD, logged_in
from tests.html_forms import read_form

GIVE_FILE_AGAIN = "Choose the file again: it was not saved because the page had errors."
GIVE_PASSWORD_AGAIN = "Enter it again: it was not saved because the page had errors."


def person(username: str, role: str | None = None, **fields: object) -> User:
    """A user made the way the dashboard makes one: no staff status."""
    user = User.objects.create_user(username, f"{username}@example.com", PASSWORD, **fields)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def log_in(username: str) -> tuple[Client, int]:
    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD, "next": "/"})
    return client, response.status_code


# Roles let people log in


@pytest.mark.parametrize("role", roles.ROLES)
def test_a_person_given_a_role_logs_in_without_staff_status(db, role):
    person("erin", role)
    client, status = log_in("erin")
    assert status == 302
    assert client.get("/").status_code == 200


def test_a_person_with_no_role_cannot_log_in(db):
    person("erin")
    client, status = log_in("erin")
    assert status == 200
    assert client.get("/").status_code == 302


def test_an_inactive_person_with_a_role_cannot_log_in(db):
    person("erin", roles.MARKETER, is_active=False)
    assert log_in("erin")[1] == 200


def test_taking_away_every_role_shuts_the_dashboard(db):
    erin = person("erin", roles.MARKETER)
    client = logged_in(erin)
    assert client.get("/").status_code == 200
    erin.groups.clear()
    assert client.get("/").status_code == 302


def test_an_app_administrator_adds_a_marketer_who_logs_in(alice, organization, retail):
    marketer = Group.objects.get(name=roles.MARKETER)
    response = logged_in(alice).post(
        "/auth/user/add/",
        {
            "username": "erin",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
            "groups": [marketer.pk],
            "member_organizations": [organization.pk],
        },
    )
    assert response.status_code == 302
    erin = User.objects.get(username="erin")
    assert list(erin.groups.all()) == [marketer] and not erin.is_staff
    client, status = log_in("erin")
    assert status == 302
    assert client.get("/campaigns/notification/").status_code == 200


def test_the_add_page_offers_only_roles_and_says_a_role_lets_one_log_in(alice):
    Group.objects.create(name="Hand-made group")
    page = logged_in(alice).get("/auth/user/add/").content.decode()
    assert 'name="groups"' in page and "Hand-made group" not in page
    assert "A role lets the person log in" in page


def test_staff_status_is_left_to_superusers(alice, bob, root):
    assert 'name="is_staff"' not in page_of(logged_in(alice), f"/auth/user/{bob.pk}/change/")
    assert 'name="is_staff"' in page_of(logged_in(root), f"/auth/user/{bob.pk}/change/")


def page_of(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


# Credentials: "set on" only for what is stored


def help_of(html: str, field: str) -> str:
    """The help text shown under one field of the app page."""
    found = re.search(rf'id="id_{field}_helptext">\s*<div>(.*?)</div>', html, re.S)
    assert found, field
    return found.group(1)


def app_page(client: Client, app: MobileApp) -> str:
    return page_of(client, f"/devices/mobileapp/{app.pk}/change/")


def test_a_p8_credential_says_set_only_for_the_signing_key(alice, retail):
    html = app_page(logged_in(alice), retail)
    assert help_of(html, "apns_credential-0-signing_key").startswith("Set on ")
    assert help_of(html, "apns_credential-0-certificate").startswith("Not set yet.")
    assert help_of(html, "apns_credential-0-certificate_password").startswith("Not set yet.")
    assert help_of(html, "fcm_credential-0-service_account").startswith("Set on ")


def test_a_p12_credential_says_set_for_the_certificate_and_its_password(alice, retail):
    credential = retail.apns_credential
    credential.auth_method = ApnsCredential.AuthMethod.CERTIFICATE
    credential.store_secret({"certificate_p12": "00", "certificate_password": "right"})
    credential.save()
    html = app_page(logged_in(alice), retail)
    assert help_of(html, "apns_credential-0-signing_key").startswith("Not set yet.")
    assert help_of(html, "apns_credential-0-certificate").startswith("Set on ")
    assert help_of(html, "apns_credential-0-certificate_password").startswith("Set on ")


def test_a_p12_without_a_password_says_no_password_is_set(alice, retail):
    credential = retail.apns_credential
    credential.auth_method = ApnsCredential.AuthMethod.CERTIFICATE
    credential.store_secret({"certificate_p12": "00", "certificate_password": ""})
    credential.save()
    html = app_page(logged_in(alice), retail)
    assert help_of(html, "apns_credential-0-certificate").startswith("Set on ")
    assert help_of(html, "apns_credential-0-certificate_password").startswith("Not set yet.")


def test_a_wns_client_secret_says_set(alice, news):
    html = app_page(logged_in(alice), news)
    assert help_of(html, "wns_credential-0-client_secret").startswith("Set on ")
    assert help_of(html, "apns_credential-0-signing_key").startswith("Not set yet.")


# Credentials: what a refused save asks to give again


def posted_app_page(client: Client, app: MobileApp, **changes: object) -> str:
    data = read_form(app_page(client, app), "mobileapp_form")
    data.update(changes)
    response = client.post(f"/devices/mobileapp/{app.pk}/change/", data)
    assert response.status_code == 200, "the save was meant to be refused"
    return response.content.decode()


def test_a_good_key_refused_with_the_page_asks_to_choose_the_file_again(alice, news):
    html = posted_app_page(
        logged_in(alice),
        news,
        display_name="",
        **{
            "apns_credential-0-auth_method": "token",
            "apns_credential-0-key_id": "ABCDE12345",
            "apns_credential-0-team_id": "TEAM123456",
            "apns_credential-0-bundle_id": "com.contoso.news",
            "apns_credential-0-signing_key": SimpleUploadedFile(
                "AuthKey.p8", sample_credentials.p8_signing_key()
            ),
        },
    )
    assert GIVE_FILE_AGAIN in help_of(html, "apns_credential-0-signing_key")
    assert "again" not in help_of(html, "apns_credential-0-certificate")
    assert "again: it was not saved" not in help_of(html, "wns_credential-0-client_secret")
    assert not ApnsCredential.objects.filter(app=news).exists()


def test_a_refused_certificate_asks_for_the_file_and_the_password_again(alice, retail):
    html = posted_app_page(
        logged_in(alice),
        retail,
        **{
            "apns_credential-0-auth_method": "certificate",
            "apns_credential-0-certificate_password": "wrong",
            "apns_credential-0-certificate": SimpleUploadedFile(
                "push.p12", sample_credentials.p12_certificate("com.contoso.retail", "right")
            ),
        },
    )
    assert GIVE_FILE_AGAIN in help_of(html, "apns_credential-0-certificate")
    assert GIVE_PASSWORD_AGAIN in help_of(html, "apns_credential-0-certificate_password")
    assert "again: it was not saved" not in help_of(html, "apns_credential-0-signing_key")
    assert "again: it was not saved" not in help_of(html, "fcm_credential-0-service_account")


def test_a_page_never_submitted_asks_for_nothing_again(alice, retail):
    assert "it was not saved" not in app_page(logged_in(alice), retail)


# Error pages


def assert_dashboard_error(response, status: int) -> str:
    assert response.status_code == status
    html = response.content.decode()
    assert '<div id="site-name"><a href="/">Push Center</a></div>' in html
    assert f'data-status="{status}"' in html
    assert '<a class="error-page-home" href="/">Back to the dashboard home</a>' in html
    assert "pushcenter/dashboard.css" in html and "admin/css/base.css" in html
    return html


def test_a_page_a_marketer_may_not_open_is_the_dashboards_403(bob):
    html = assert_dashboard_error(logged_in(bob).get("/auth/user/"), 403)
    assert "You may not open this page" in html
    assert 'id="user-tools"' in html and "error-page-list" not in html


def test_a_forbidden_page_of_a_listed_model_links_back_to_its_list(bob, retail):
    response = logged_in(bob).get(f"/devices/mobileapp/{retail.pk}/delete/")
    html = assert_dashboard_error(response, 403)
    assert '<a class="error-page-list" href="/devices/mobileapp/">Back to Mobile apps</a>' in html


def test_the_previous_page_is_offered_only_when_it_is_the_dashboards(bob):
    client = logged_in(bob)
    ours = client.get("/auth/user/", HTTP_REFERER="http://testserver/segments/segment/")
    assert 'href="http://testserver/segments/segment/">Back to the previous page' in (
        ours.content.decode()
    )
    theirs = client.get("/auth/user/", HTTP_REFERER="https://elsewhere.example/")
    assert "elsewhere.example" not in theirs.content.decode()


def test_an_unknown_page_is_the_dashboards_404(bob):
    html = assert_dashboard_error(logged_in(bob).get("/no/such/page/"), 404)
    assert "Page not found" in html


def test_an_unknown_api_path_stays_json(bob):
    response = logged_in(bob).get("/api/no-such-endpoint")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_500_page_renders_with_no_context_inside_the_dashboard(db):
    html = loader.get_template("500.html").render()
    assert '<div id="site-name"><a href="/">Push Center</a></div>' in html
    assert "The dashboard failed to show this page" in html and 'href="/"' in html
    response = get_resolver().resolve_error_handler(500)(RequestFactory().get("/"))
    assert response.status_code == 500
    assert 'data-status="500"' in response.content.decode()


def test_a_refused_api_request_outside_drf_answers_json(db):
    request = RequestFactory().get("/api/v0.1/anything")
    response = get_resolver().resolve_error_handler(403)(request, exception=None)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


# The notification's author


@pytest.fixture
def sale(retail, alice) -> Notification:
    return Notification.objects.create(app=retail, name="Spring sale", author=alice)


def test_a_marketer_reads_the_author_as_plain_text(bob, sale, alice):
    html = page_of(logged_in(bob), f"/campaigns/notification/{sale.pk}/change/")
    assert f"/auth/user/{alice.pk}/change/" not in html
    assert re.search(r'field-author_name">.*?<div class="readonly">alice</div>', html, re.S)


def test_an_app_administrator_opens_the_authors_page(alice, sale):
    html = page_of(logged_in(alice), f"/campaigns/notification/{sale.pk}/change/")
    assert f'href="/auth/user/{alice.pk}/change/">alice</a>' in html

"""Organizations and mobile apps: found by both doors, named by the rules, secrets kept out."""

from __future__ import annotations

import logging
import sys

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.views.debug import ExceptionReporter
from rest_framework.test import APIClient

from campaigns.models import SendingRules
from devices.models import MobileApp, Organization
from devices.services import find_app
from tests.conftest import logged_in
from tests.html_forms import read_form


def test_app_center_names_find_the_app(retail, news):
    assert find_app("contoso", "retail") == retail
    assert find_app("contoso", "missing") is None
    assert find_app("other", "retail") is None


def test_d365_ids_find_the_tokens_app_in_any_uuid_spelling(retail, retail_token):
    org_id, app_id = retail.organization.organization_id, retail.application_id
    path = f"/api/v1.0/orgs/{str(org_id).upper()}/pushchannel/apps/{app_id.hex}/devices/contact-1"
    body = {"ApnsDeviceContract": {"ApnsToken": "a" * 64}, "ApiToken": retail_token}
    assert APIClient().post(path, body, format="json").status_code == 201
    bad = f"/api/v1.0/orgs/not-a-uuid/pushchannel/apps/{app_id}/devices/contact-1"
    assert APIClient().post(bad, body, format="json").status_code == 404


@pytest.mark.parametrize("name", ["", "-leading", "has space", "a/b", "x" * 65, "ünïcode"])
def test_names_that_cannot_stand_in_a_path_are_refused(organization, name):
    app = MobileApp(organization=organization, name=name, display_name="Bad")
    with pytest.raises(ValidationError) as error:
        app.full_clean()
    assert "name" in error.value.message_dict


def test_an_app_name_is_unique_within_its_owner(retail):
    duplicate = MobileApp(organization=retail.organization, name="retail", display_name="Again")
    with pytest.raises(ValidationError):
        duplicate.full_clean()
    other_owner = Organization.objects.create(name="fabrikam", display_name="Fabrikam")
    MobileApp(organization=other_owner, name="retail", display_name="Theirs").full_clean()


def test_the_app_page_shows_both_identities_and_the_validation_status(alice, retail):
    html = logged_in(alice).get(f"/devices/mobileapp/{retail.pk}/change/").content.decode()
    assert str(retail.application_id) in html
    assert str(retail.organization.organization_id) in html
    assert "unchecked" in html


def test_an_error_report_of_a_credential_post_hides_the_secret(alice, news):
    client = logged_in(alice)
    data = read_form(
        client.get(f"/devices/mobileapp/{news.pk}/change/").content.decode(), "mobileapp_form"
    )
    data["wns_credential-0-client_secret"] = "leaked-if-shown"
    data["display_name"] = ""  # an invalid save re-renders the form, as a crash report would follow
    request = RequestFactory().post(f"/devices/mobileapp/{news.pk}/change/", data)
    request.user = alice
    request._dont_enforce_csrf_checks = True
    model_admin = admin.site._registry[MobileApp]
    model_admin.changeform_view(request, str(news.pk))
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        report = ExceptionReporter(request, *sys.exc_info()).get_traceback_text()
    assert "leaked-if-shown" not in report
    assert "wns_credential-0-client_secret" in report


def test_saving_credentials_logs_no_secret(alice, news, caplog):
    client = logged_in(alice)
    data = read_form(
        client.get(f"/devices/mobileapp/{news.pk}/change/").content.decode(), "mobileapp_form"
    )
    data["wns_credential-0-client_secret"] = "never-logged-secret"
    with caplog.at_level(logging.DEBUG):
        client.post(f"/devices/mobileapp/{news.pk}/change/", data)
    assert "never-logged-secret" not in caplog.text


def post_app_page(client, app: MobileApp, **changes: str):
    data = read_form(
        client.get(f"/devices/mobileapp/{app.pk}/change/").content.decode(), "mobileapp_form"
    )
    data.update(changes)
    return client.post(f"/devices/mobileapp/{app.pk}/change/", data)


def test_an_administrator_declares_custom_property_types(alice, retail):
    response = post_app_page(
        logged_in(alice), retail, custom_property_types='{"signed-up": "datetime"}'
    )
    assert response.status_code == 302
    retail.refresh_from_db()
    assert retail.custom_property_types == {"signed-up": "datetime"}


@pytest.mark.parametrize(
    ("types", "message"),
    [
        ('["dog-lover"]', "Write an object"),
        ('{"dog lover": "boolean"}', "a property name is 1 to 64"),
        ('{"dog-lover": "yes/no"}', "the type must be one of"),
    ],
)
def test_bad_custom_property_types_are_refused(alice, retail, types, message):
    response = post_app_page(logged_in(alice), retail, custom_property_types=types)
    assert response.status_code == 200
    assert message in response.content.decode()
    retail.refresh_from_db()
    assert retail.custom_property_types == {}


def test_a_declared_type_cannot_change(alice, retail):
    MobileApp.objects.filter(pk=retail.pk).update(custom_property_types={"dog-lover": "boolean"})
    response = post_app_page(
        logged_in(alice), retail, custom_property_types='{"dog-lover": "string"}'
    )
    assert "is declared boolean" in response.content.decode()
    retail.refresh_from_db()
    assert retail.custom_property_types == {"dog-lover": "boolean"}


@pytest.mark.parametrize("name", ["model", "appVersion", "and", "NOT", "exists", "123"])
def test_a_custom_property_cannot_take_a_reserved_name(alice, retail, name):
    response = post_app_page(
        logged_in(alice), retail, custom_property_types=f'{{"{name}": "string"}}'
    )
    assert "taken by a built-in property" in response.content.decode() or "not only digits" in (
        response.content.decode()
    )
    retail.refresh_from_db()
    assert retail.custom_property_types == {}


def test_the_reserved_names_cover_every_built_in_property_of_the_language():
    from devices.models import BUILT_IN_PROPERTY_NAMES
    from segments.language import BUILT_IN_PROPERTIES

    assert {p.name for p in BUILT_IN_PROPERTIES} == set(BUILT_IN_PROPERTY_NAMES)


def sending_rules(**changes: str) -> dict[str, str]:
    """The app page's fields for these sending rules (an inline of campaigns' SendingRules)."""
    return {f"sending_rules-0-{name}": value for name, value in changes.items()}


def test_an_app_follows_the_default_sending_rules_until_someone_changes_them(alice, retail):
    page = logged_in(alice).get(f"/devices/mobileapp/{retail.pk}/change/").content.decode()
    assert "Frequency caps" in page and "Time zone and quiet hours" in page
    assert 'name="sending_rules-0-min_interval_minutes" value="30"' in page

    assert post_app_page(logged_in(alice), retail, display_name="Retail shop").status_code == 302
    assert not SendingRules.objects.filter(app=retail).exists()

    post_app_page(logged_in(alice), retail, **sending_rules(min_interval_minutes="0"))
    assert SendingRules.objects.get(app=retail).min_interval_minutes == 0


def test_an_administrator_sets_quiet_hours_and_the_default_zone(alice, retail):
    response = post_app_page(
        logged_in(alice),
        retail,
        **sending_rules(
            default_time_zone="Europe/Paris",
            quiet_hours_start="22:00",
            quiet_hours_end="08:00",
            quiet_hours_action="skip",
        ),
    )
    assert response.status_code == 302
    rules = SendingRules.objects.get(app=retail)
    assert (rules.default_time_zone, str(rules.quiet_hours_start)) == ("Europe/Paris", "22:00:00")
    assert rules.quiet_hours_action == "skip"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"default_time_zone": "Paris"}, "Use an IANA time zone"),
        ({"quiet_hours_start": "22:00"}, "Set both ends of the quiet hours"),
        ({"quiet_hours_start": "22:00", "quiet_hours_end": "22:00"}, "must end at another time"),
        ({"quiet_hours_start": "25:00", "quiet_hours_end": "08:00"}, "Enter a valid time"),
    ],
)
def test_bad_quiet_hours_are_refused_and_nothing_changes(alice, retail, changes, message):
    response = post_app_page(logged_in(alice), retail, **sending_rules(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SendingRules.objects.filter(app=retail).exists()

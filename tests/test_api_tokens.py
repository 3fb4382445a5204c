"""API tokens: shown once, stored hashed, revocable, and bound to their own app."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from devices.api import D365DeviceView, DeviceListView
from devices.authentication import ApiTokenAuthentication
from devices.models import ApiToken
from devices.services import authenticate_token, hash_token, issue_api_token
from tests.conftest import logged_in


def api(token: str | None = None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_X_API_TOKEN=token)
    return client


def app_url(app) -> str:
    return f"/api/v1/apps/{app.application_id}"


def test_a_token_is_stored_as_a_hash_with_a_visible_prefix(retail):
    token, plaintext = issue_api_token(retail, "Backend")
    row = ApiToken.objects.values().get(pk=token.pk)
    assert plaintext not in str(row)
    assert row["token_hash"] == hash_token(plaintext)
    assert plaintext.startswith(row["prefix"]) and row["prefix"].startswith("pc_")


def test_the_header_token_reads_its_own_app(retail, retail_token):
    response = api(retail_token).get(app_url(retail))
    assert response.status_code == 200
    assert response.json() == {
        "owner_name": "contoso",
        "app_name": "retail",
        "display_name": "Retail",
        "organization_id": str(retail.organization.organization_id),
        "application_id": str(retail.application_id),
        "platforms": ["ios", "android"],
    }


def test_a_token_of_one_app_finds_nothing_of_another(retail, news, news_token):
    response = api(news_token).get(app_url(retail))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_missing_token_gets_401_in_the_api_error_shape(retail):
    response = api().get(app_url(retail))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "X-API-Token"
    assert response.json() == {
        "error": {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "field": None,
        }
    }


@pytest.mark.parametrize("token", ["pc_unknown", "not-even-our-format", "pc_" + "x" * 200])
def test_an_unknown_token_gets_401(retail, token):
    response = api(token).get(app_url(retail))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "The API token is unknown or revoked."


def test_a_revoked_token_gets_401(retail, retail_token):
    ApiToken.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert api(retail_token).get(app_url(retail)).status_code == 401


def body_token_request(token: str, view: object) -> Request:
    request = APIRequestFactory().post("/", {"ApiToken": token}, format="json")
    return Request(request, parsers=[JSONParser()], parser_context={"view": view})


def test_the_body_api_token_authenticates_like_d365_sends_it(retail, retail_token):
    request = body_token_request(retail_token, D365DeviceView())
    client, token = ApiTokenAuthentication().authenticate(request)
    assert token.app == retail and client.app == retail


def test_only_the_d365_door_reads_a_token_from_the_body(retail, retail_token):
    request = body_token_request(retail_token, DeviceListView())
    assert ApiTokenAuthentication().authenticate(request) is None


def test_using_a_token_notes_when(retail, retail_token):
    assert ApiToken.objects.get().last_used_at is None
    authenticate_token(retail_token)
    assert ApiToken.objects.get().last_used_at is not None


def test_an_unknown_api_path_answers_json(db):
    response = APIClient().get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_command_prints_a_working_token(retail):
    output = StringIO()
    call_command("create_api_token", "contoso/retail", stdout=output)
    plaintext = output.getvalue().strip()
    assert authenticate_token(plaintext).app == retail


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("contoso", "app must be OWNER_NAME/APP_NAME"),
        ("contoso/missing", "no app contoso/missing"),
    ],
)
def test_the_command_names_a_bad_app(retail, argument, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", argument)


def test_the_dashboard_shows_a_new_token_once(alice, retail):
    client = logged_in(alice)
    response = client.post(
        "/devices/apitoken/add/", {"app": retail.pk, "kind": "client", "name": "iOS app"}
    )
    assert response.status_code == 302
    shown = client.get(response["Location"])
    plaintext = shown.context["plaintext"]
    assert plaintext in shown.content.decode()
    token = authenticate_token(plaintext)
    assert (token.name, token.app, token.created_by) == ("iOS app", retail, alice)
    page = client.get(f"/devices/apitoken/{token.pk}/change/").content.decode()
    assert plaintext not in page and f"{token.prefix}…" in page


def test_reloading_the_created_page_neither_shows_nor_mints_a_token(alice, retail):
    client = logged_in(alice)
    response = client.post(
        "/devices/apitoken/add/", {"app": retail.pk, "kind": "client", "name": "iOS app"}
    )
    plaintext = client.get(response["Location"]).context["plaintext"]
    again = client.get(response["Location"], follow=True)
    assert plaintext not in again.content.decode()
    assert "shown once already" in again.content.decode()
    assert ApiToken.objects.count() == 1


def test_revoking_in_the_dashboard_stops_the_token(alice, retail, retail_token):
    token = ApiToken.objects.get()
    response = logged_in(alice).post(
        "/devices/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    assert authenticate_token(retail_token) is None
    assert api(retail_token).get(app_url(retail)).status_code == 401


def test_a_revoked_token_stops_at_once_even_when_cached(alice, retail, retail_token):
    assert api(retail_token).get(app_url(retail)).status_code == 200
    token = ApiToken.objects.get()
    logged_in(alice).post(
        "/devices/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert api(retail_token).get(app_url(retail)).status_code == 401


def test_changing_an_app_refreshes_its_cached_tokens(retail, retail_token):
    assert api(retail_token).get(app_url(retail)).json()["display_name"] == "Retail"
    retail.display_name = "Retail, renamed"
    retail.save()
    assert api(retail_token).get(app_url(retail)).json()["display_name"] == "Retail, renamed"

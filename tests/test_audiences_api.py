"""App Center's audiences API: the seed's bodies create segments the dashboard shares."""

from __future__ import annotations

import pytest

from segments.models import Segment
from tests.test_device_api import APNS_TOKEN, SEED_BODY, api, put


def audience_url(app, name: str = "us-users") -> str:
    return f"/api/v0.1/apps/{app.organization.name}/{app.name}/analytics/audiences/{name}"


@pytest.fixture
def devices(retail, retail_token):
    put(retail_token, retail, SEED_BODY, install="00000000-0000-4000-8000-000000000001")
    put(
        retail_token,
        retail,
        {
            **SEED_BODY,
            "push_token": "b" * 64,
            "properties": {"carrierCountry": "FR"},
            "custom_properties": {"dog-lover": False},
        },
        install="00000000-0000-4000-8000-000000000002",
    )


def test_the_seed_country_body_creates_an_audience_with_its_count(retail, retail_token, devices):
    body = {"definition": "carrierCountry eq 'US'", "description": "Users in the United States"}
    response = api(retail_token).put(audience_url(retail), body, format="json")
    assert response.status_code == 201, response.json()
    audience = response.json()
    assert (audience["name"], audience["estimated_count"]) == ("us-users", 1)
    assert audience["description"] == "Users in the United States"
    assert Segment.objects.get().definition == "carrierCountry eq 'US'"


def test_the_seed_custom_property_body_works_as_written(retail, retail_token, devices):
    body = {
        "definition": "dog-lover eq true and dog-breed eq 'Golden Retriever'",
        "custom_properties": {"dog-lover": "boolean", "dog-breed": "string"},
    }
    response = api(retail_token).put(audience_url(retail, "golden"), body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["estimated_count"] == 1
    assert response.json()["custom_properties"] == body["custom_properties"]


def test_put_replaces_and_get_reads(retail, retail_token, devices):
    client = api(retail_token)
    client.put(audience_url(retail), {"definition": "carrierCountry eq 'US'"}, format="json")
    replaced = client.put(
        audience_url(retail), {"definition": "carrierCountry eq 'FR'"}, format="json"
    )
    assert replaced.status_code == 200
    read = client.get(audience_url(retail)).json()
    assert (read["definition"], read["estimated_count"]) == ("carrierCountry eq 'FR'", 1)


def test_the_list_shows_every_audience_with_counts(retail, retail_token, devices):
    client = api(retail_token)
    client.put(audience_url(retail, "a"), {"definition": "carrierCountry eq 'US'"}, format="json")
    client.put(audience_url(retail, "b"), {"definition": "exists(carrierCountry)"}, format="json")
    listing = client.get("/api/v0.1/apps/contoso/retail/analytics/audiences").json()
    assert {(a["name"], a["estimated_count"]) for a in listing["values"]} == {("a", 1), ("b", 2)}


def test_delete_removes_the_audience(retail, retail_token):
    client = api(retail_token)
    client.put(audience_url(retail), {"definition": "carrierCountry eq 'US'"}, format="json")
    assert client.delete(audience_url(retail)).status_code == 204
    assert client.get(audience_url(retail)).status_code == 404
    assert not Segment.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"definition": "carrierCountry equals 'US'"}, "definition", "line 1, column 16"),
        ({"definition": "carrierCountri eq 'US'"}, "definition", "carrierCountry"),
        ({"definition": "appVersion ge 2"}, "definition", "appVersion"),
        ({}, "definition", "required"),
        (
            {"definition": "x eq 1", "custom_properties": {"x": "integer"}},
            "custom_properties.x",
            "valid choice",
        ),
        ({"definition": "carrierCountry eq 'US'", "colour": "red"}, "colour", "Unknown field"),
    ],
)
def test_a_bad_audience_is_refused_by_field_and_changes_nothing(
    retail, retail_token, body, field, rule
):
    api(retail_token).put(
        audience_url(retail), {"definition": "carrierCountry eq 'US'"}, format="json"
    )
    response = api(retail_token).put(audience_url(retail), body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["field"] == field
    assert rule in response.json()["error"]["message"]
    assert Segment.objects.get().definition == "carrierCountry eq 'US'"


def test_a_type_clashing_with_the_apps_is_refused(retail, retail_token, devices):
    body = {"definition": "dog-lover eq 'yes'", "custom_properties": {"dog-lover": "string"}}
    response = api(retail_token).put(audience_url(retail), body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "custom_properties"
    assert not Segment.objects.exists()


def test_an_audience_name_that_cannot_be_a_name_is_refused(retail, retail_token):
    response = api(retail_token).put(
        audience_url(retail, "-bad"), {"definition": "exists(locale)"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "audience_name"


def test_another_apps_token_finds_nothing(retail, news, retail_token, news_token):
    api(retail_token).put(
        audience_url(retail), {"definition": "carrierCountry eq 'US'"}, format="json"
    )
    other = api(news_token)
    assert other.get(audience_url(retail)).status_code == 404
    assert (
        other.put(audience_url(retail), {"definition": "exists(locale)"}, format="json").status_code
        == 404
    )
    assert other.delete(audience_url(retail)).status_code == 404
    assert other.get("/api/v0.1/apps/contoso/retail/analytics/audiences").status_code == 404
    assert Segment.objects.get().definition == "carrierCountry eq 'US'"


def test_only_active_devices_count(retail, retail_token, devices):
    api(retail_token).delete(
        f"/api/v1/apps/{retail.application_id}/devices/00000000-0000-4000-8000-000000000001"
    )
    body = {"definition": "exists(carrierCountry)"}
    assert (
        api(retail_token).put(audience_url(retail), body, format="json").json()["estimated_count"]
        == 1
    )


def test_a_token_move_is_not_a_duplicate_member(retail, retail_token):
    put(retail_token, retail, SEED_BODY, install="00000000-0000-4000-8000-000000000001")
    put(
        retail_token,
        retail,
        {**SEED_BODY, "push_token": APNS_TOKEN},
        install="00000000-0000-4000-8000-000000000009",
    )
    body = {"definition": "carrierCountry eq 'US'"}
    assert (
        api(retail_token).put(audience_url(retail), body, format="json").json()["estimated_count"]
        == 1
    )

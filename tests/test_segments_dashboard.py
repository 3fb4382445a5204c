"""The segment page: live checks as the marketer types, and saves that only keep valid segments."""

from __future__ import annotations

import uuid

import pytest

from campaigns.models import Notification
from devices.models import MobileApp
from devices.registration import register_device
from segments.models import Segment
from tests.conftest import logged_in

PREVIEW = "/segments/segment/preview/"


@pytest.fixture
def devices(retail):
    for n, country in enumerate(["US", "US", "FR"]):
        registration = {
            "platform": "ios",
            "push_token": f"{n}" * 64,
            "user_id": f"user-{n}",
            "properties": {"carrierCountry": country},
        }
        register_device(retail, uuid.UUID(int=n + 1), registration)


def test_the_preview_counts_and_samples_a_valid_definition(bob, retail, devices):
    result = (
        logged_in(bob)
        .post(PREVIEW, {"app": retail.pk, "definition": "carrierCountry eq 'US'"})
        .json()
    )
    assert result["error"] is None and result["count"] == 2
    assert {row["user_id"] for row in result["sample"]} == {"user-0", "user-1"}
    assert "carrierCountry" in {p["name"] for p in result["properties"]}


def test_the_preview_points_at_a_typo(bob, retail):
    result = (
        logged_in(bob)
        .post(PREVIEW, {"app": retail.pk, "definition": "carrierCountry equals 'US'"})
        .json()
    )
    assert (result["error"]["line"], result["error"]["column"]) == (1, 16)
    assert "line 1, column 16" in result["error"]["message"]


def test_the_preview_lists_the_properties_a_segment_declares(bob, retail):
    result = (
        logged_in(bob)
        .post(
            PREVIEW,
            {
                "app": retail.pk,
                "definition": "dog-lover eq true",
                "custom_property_types": '{"dog-lover": "boolean"}',
            },
        )
        .json()
    )
    assert result["error"] is None
    assert {"name": "dog-lover", "type": "boolean"}.items() <= next(
        p for p in result["properties"] if p["name"] == "dog-lover"
    ).items()


def test_the_preview_refuses_custom_types_that_are_not_an_object(bob, retail):
    result = (
        logged_in(bob)
        .post(
            PREVIEW,
            {"app": retail.pk, "definition": "exists(locale)", "custom_property_types": "[1]"},
        )
        .json()
    )
    assert "JSON object" in result["error"]["message"]


def test_the_preview_needs_an_app_the_user_may_see(carol, bob, retail, news):
    assert (
        logged_in(carol)
        .post(PREVIEW, {"app": retail.pk, "definition": "exists(locale)"})
        .status_code
        == 403
    )
    assert (
        "Choose an app"
        in logged_in(bob).post(PREVIEW, {"definition": "x"}).json()["error"]["message"]
    )


def test_a_marketer_saves_a_valid_segment(bob, retail):
    response = logged_in(bob).post(
        "/segments/segment/add/",
        {
            "app": retail.pk,
            "name": "US users",
            "definition": "carrierCountry eq 'US'",
            "description": "",
            "custom_property_types": "{}",
        },
    )
    assert response.status_code == 302
    assert Segment.objects.get().author == bob


def test_an_invalid_definition_is_never_saved(bob, retail):
    response = logged_in(bob).post(
        "/segments/segment/add/",
        {
            "app": retail.pk,
            "name": "Broken",
            "definition": "carrierCountry equals 'US'",
            "description": "",
            "custom_property_types": "{}",
        },
    )
    assert response.status_code == 200
    assert "line 1, column 16" in response.content.decode()
    assert not Segment.objects.exists()


def test_saving_a_segment_declares_its_types_on_the_app(bob, retail):
    logged_in(bob).post(
        "/segments/segment/add/",
        {
            "app": retail.pk,
            "name": "Dog lovers",
            "definition": "dog-lover eq true",
            "description": "",
            "custom_property_types": '{"dog-lover": "boolean"}',
        },
    )
    assert MobileApp.objects.get(pk=retail.pk).custom_property_types == {"dog-lover": "boolean"}


@pytest.mark.parametrize(("user", "status"), [("alice", 200), ("bob", 200), ("carol", 403)])
def test_who_sees_segments(request, retail, user, status):
    assert logged_in(request.getfixturevalue(user)).get("/segments/segment/").status_code == status


def test_only_a_marketer_changes_segments(alice, retail):
    response = logged_in(alice).post(
        "/segments/segment/add/",
        {
            "app": retail.pk,
            "name": "x",
            "definition": "exists(locale)",
            "description": "",
            "custom_property_types": "{}",
        },
    )
    assert response.status_code == 403


def test_a_segments_page_lists_the_notifications_that_target_it(bob, retail):
    segment = Segment.objects.create(
        app=retail, name="US users", definition="carrierCountry eq 'US'"
    )
    targeting = Notification.objects.create(app=retail, name="Spring sale", target_kind="segments")
    targeting.segments.add(segment)
    Notification.objects.create(app=retail, name="Other sale")

    page = logged_in(bob).get(f"/segments/segment/{segment.pk}/change/").content.decode()

    assert (
        f'<a href="/campaigns/notification/{targeting.pk}/change/">Spring sale</a> (draft)' in page
    )
    assert "Other sale" not in page

"""A marketer builds an audience from what people did: an example inserted, edited, counted."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from devices.registration import register_device
from journeys import events
from segments.models import Segment
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def shoppers(retail):
    """Ada bought twice this month, Bo once, Cy twice but in France."""
    for n, (user_id, country, purchases) in enumerate(
        [("ada", "US", 2), ("bo", "US", 1), ("cy", "FR", 2)]
    ):
        registration = {
            "platform": "ios",
            "push_token": f"{n}" * 64,
            "user_id": user_id,
            "properties": {"carrierCountry": country},
        }
        register_device(retail, uuid.UUID(int=n + 1), registration)
        for _ in range(purchases):
            events.record(retail, "purchase", user_ids=[user_id], properties={"amount": 30})


def test_marketer_builds_a_segment_from_what_people_did_and_sees_its_count(
    page: Page, live_server, bob, retail, shoppers
):
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/segments/segment/add/")
    page.select_option("#id_app", label="contoso/retail")
    page.fill("#id_name", "Repeat buyers")

    page.locator("#segment-behaviour-examples code").first.click()
    definition = page.locator("#id_definition")
    expect(definition).to_have_value("did('purchase', within 30d, count ge 2)")
    expect(page.locator("#segment-count")).to_have_text("2")

    page.fill("#id_definition", "did('purchase', within 400d, count ge 2)")
    expect(page.locator("#segment-status")).to_contain_text(
        "line 1, column 24: expected a window from 1m to 365d"
    )

    page.fill(
        "#id_definition", "did('purchase', within 30d, count ge 2) and carrierCountry eq 'US'"
    )
    expect(page.locator("#segment-count")).to_have_text("1")
    expect(page.locator("#segment-sample tbody tr")).to_have_count(1)
    expect(page.locator("#segment-sample tbody")).to_contain_text("ada")

    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert Segment.objects.get().definition.startswith("did('purchase', within 30d")

"""A marketer writes a segment: the page points at a typo, counts the devices once fixed, saves."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from devices.registration import register_device
from segments.models import Segment
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def us_devices(retail):
    for n, country in enumerate(["US", "US", "FR"]):
        registration = {
            "platform": "ios",
            "push_token": f"{n}" * 64,
            "properties": {"carrierCountry": country},
        }
        register_device(retail, uuid.UUID(int=n + 1), registration)


def test_marketer_fixes_a_typo_sees_the_count_and_saves(
    page: Page, live_server, bob, retail, us_devices
):
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/segments/segment/add/")
    page.select_option("#id_app", label="contoso/retail")
    page.fill("#id_name", "US users")

    page.fill("#id_definition", "carrierCountry equals 'US'")
    status = page.locator("#segment-status")
    expect(status).to_contain_text("line 1, column 16")
    expect(status).to_have_class("segment-status invalid")
    expect(page.locator("#segment-property-list")).to_contain_text("carrierCountry")

    page.fill("#id_definition", "carrierCountry eq 'US'")
    expect(page.locator("#segment-count")).to_have_text("2")
    expect(page.locator("#segment-sample tbody tr")).to_have_count(2)

    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    segment = Segment.objects.get()
    assert (segment.name, segment.definition, segment.author) == (
        "US users",
        "carrierCountry eq 'US'",
        bob,
    )


def test_a_definition_with_an_error_is_not_saved(page: Page, live_server, bob, retail):
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/segments/segment/add/")
    page.select_option("#id_app", label="contoso/retail")
    page.fill("#id_name", "Broken")
    page.fill("#id_definition", "carrierCountri eq 'US'")
    page.click("input[name=_save]")
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator("#content-main")).to_contain_text("carrierCountry")
    assert not Segment.objects.exists()

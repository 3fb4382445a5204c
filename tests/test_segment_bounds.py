"""Segment definitions are bounded so that evaluating one can never overflow: relative times
reach at most a century, dates stop at the year 9998, and a definition is evaluated once when
saved. A bad definition stored before these rules answers the audiences API with its error,
never a 500."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from journeys.models import Journey, Trigger
from segments.language import DefinitionError, compile_definition
from segments.models import Segment
from segments.services import count_members
from tests.conftest import logged_in
from tests.test_audiences_api import audience_url
from tests.test_device_api import SEED_BODY, api, put

# The audience an app's token stored in the report: it validated then and overflowed later.
OVERFLOWING = "lastSeen lt now+69890549h"
CENTURY = "a relative time within 100 years of now"
CALENDAR = "a time between the years 1 and 9998"


@pytest.fixture
def device(retail, retail_token):
    put(retail_token, retail, SEED_BODY, install="00000000-0000-4000-8000-000000000001")


@pytest.mark.parametrize(
    ("definition", "rule"),
    [
        (OVERFLOWING, CENTURY),
        ("lastSeen gt now-876601h", CENTURY),
        ("firstSeen lt now+5219w", CENTURY),
        ("lastSeen gt now-999999999m", CENTURY),
        ("lastSeen lt 9999-01-01", CALENDAR),
        ("lastSeen lt '9999-12-31T23:59:59Z'", CALENDAR),
        ("lastSeen lt 9998-12-31T23:00:00-05:00", CALENDAR),
    ],
)
def test_the_api_refuses_a_time_past_its_bound_naming_the_field(
    retail, retail_token, definition, rule
):
    response = api(retail_token).put(audience_url(retail), {"definition": definition}, "json")

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["field"] == "definition"
    assert rule in error["message"]
    assert not Segment.objects.exists()


@pytest.mark.parametrize(
    "definition",
    [
        "lastSeen gt now-876600h",
        "lastSeen lt now+36525d",
        "lastSeen gt 0001-01-01",
        "lastSeen lt 9998-12-31T23:59:59Z",
    ],
)
def test_times_within_their_bounds_are_saved_and_counted(retail, retail_token, device, definition):
    response = api(retail_token).put(audience_url(retail), {"definition": definition}, "json")

    assert response.status_code == 201, response.json()
    assert response.json()["estimated_count"] == 1
    assert response.json()["state"] == "Calculated"


def test_the_segment_form_refuses_a_time_past_its_bound_naming_the_field(bob, retail):
    response = logged_in(bob).post(
        "/segments/segment/add/",
        {
            "app": retail.pk,
            "name": "Far future",
            "definition": OVERFLOWING,
            "description": "",
            "custom_property_types": "{}",
        },
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert CENTURY in " ".join(form.errors["definition"])
    assert not Segment.objects.exists()


def test_a_relative_time_that_would_leave_the_calendar_is_an_error_not_an_overflow():
    # Near the calendar's end, even a bounded offset must say so rather than overflow.
    late = datetime(9998, 12, 1, tzinfo=UTC)

    with pytest.raises(DefinitionError) as refused:
        compile_definition("lastSeen lt now+100w", {}, now=late)

    assert refused.value.expected == CALENDAR


def test_a_stored_bad_audience_answers_get_with_its_definition_and_error(
    retail, retail_token, device
):
    Segment.objects.create(app=retail, name="doomed", definition=OVERFLOWING)

    response = api(retail_token).get(audience_url(retail, "doomed"))

    assert response.status_code == 200
    audience = response.json()
    assert audience["definition"] == OVERFLOWING
    assert audience["estimated_count"] is None
    assert audience["state"] == "Failed"
    assert CENTURY in audience["error"]


def test_a_stored_bad_audience_does_not_break_the_list(retail, retail_token, device):
    Segment.objects.create(app=retail, name="doomed", definition=OVERFLOWING)
    Segment.objects.create(app=retail, name="everyone", definition="exists(platform)")
    Segment.objects.create(app=retail, name="typo", definition="carrierCountry equals 'US'")

    response = api(retail_token).get(audience_url(retail)[: -len("/us-users")])

    assert response.status_code == 200
    audiences = {a["name"]: a for a in response.json()["values"]}
    assert audiences["everyone"]["estimated_count"] == 1
    assert "error" not in audiences["everyone"]
    assert audiences["doomed"]["state"] == audiences["typo"]["state"] == "Failed"
    assert "line 1, column 16" in audiences["typo"]["error"]


def test_a_stored_bad_audience_can_be_replaced_and_deleted(retail, retail_token, device):
    Segment.objects.create(app=retail, name="doomed", definition=OVERFLOWING)
    client = api(retail_token)

    replaced = client.put(
        audience_url(retail, "doomed"), {"definition": "exists(platform)"}, "json"
    )
    assert replaced.status_code == 200 and replaced.json()["estimated_count"] == 1
    Segment.objects.filter(name="doomed").update(definition=OVERFLOWING)

    assert client.delete(audience_url(retail, "doomed")).status_code == 204
    assert not Segment.objects.exists()


def test_counting_a_stored_bad_segment_says_why(retail):
    segment = Segment.objects.create(app=retail, name="doomed", definition=OVERFLOWING)

    count, error = count_members(segment)

    assert count is None
    assert error.startswith("line 1, column 13: ") and CENTURY in error


def test_deleting_an_audience_a_journey_listens_to_is_refused_naming_it(retail, retail_token):
    segment = Segment.objects.create(app=retail, name="vips", definition="exists(platform)")
    Journey.objects.create(
        app=retail, name="VIP welcome", trigger=Trigger.SEGMENT_ENTRY, segment=segment
    )

    response = api(retail_token).delete(audience_url(retail, "vips"))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "in_use"
    assert "the journey VIP welcome" in response.json()["error"]["message"]
    assert Segment.objects.filter(pk=segment.pk).exists()

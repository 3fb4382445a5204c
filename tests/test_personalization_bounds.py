"""Personalization does bounded work: every filter size is bounded, nothing runs when a text is
saved, and a message's rendering has a size and work budget. A text over a bound is refused at
every door (composer, preview, Push API, journey steps); one stored anyway fails its delivery."""

from __future__ import annotations

import uuid

import pytest
from jinja2 import pass_context

from campaigns.models import Delivery, DeliveryStatus, Notification
from campaigns.personalization import (
    MAX_OUTPUT_LENGTH,
    MAX_PRECISION,
    MAX_RENDER_WORK,
    PersonalizationError,
    check_text,
    render_text,
)
from devices.registration import register_device
from journeys.models import Journey, Trigger
from tests.conftest import logged_in, send_due
from tests.notification_forms import (
    ADD,
    PREVIEW,
    change_url,
    errors,
    form_data,
    opened_form,
    save_draft,
    schedule,
)
from tests.test_push_api import send

pytest_plugins = ["tests.sandbox"]

HOSTILE = "Hi {{ 1.5 | round(10000000, 'ceil') }}"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (HOSTILE, f"precision must be a whole number from -{MAX_PRECISION} to {MAX_PRECISION}"),
        ("{{ 1.5 | round(-11) }}", "precision must be a whole number from -10 to 10"),
        ("{{ 1.5 | round(precision=99) }}", "precision must be a whole number from -10 to 10"),
        ("{{ 1.5 | round(user.digits) }}", "precision must be a whole number"),
        ("{{ 1.5 | round(2, 'up') }}", "method must be one of 'common', 'ceil', 'floor'"),
        ("{{ user.id | truncate(100000) }}", f"length must be a whole number from 1 to {4000}"),
        ("{{ user.id | truncate(0) }}", "length must be a whole number from 1 to 4000"),
        ("{{ user.id | truncate(10, leeway=-1) }}", "leeway must be a whole number from 0"),
        ("{{ user.id | truncate(2) }}", "end (3 characters) is longer than its length (2)"),
        ("{{ user.id | replace('a', 'b', 99999) }}", "count must be a whole number from 0 to"),
        ("{{ user.id | int(0, 99) }}", "base must be a whole number from 2 to 36"),
        ("{{ user.id | upper(3) }}", "Filter upper takes no arguments"),
        ("{{ user.id | round(1, 'ceil', 3) }}", "Filter round takes at most 2 arguments"),
        ("{{ user.id | truncate(5, width=3) }}", "has no argument width"),
        ("{{ 1e400 }}", "is too large: numbers in push text are at most 1,000,000,000,000,000"),
        ("{{ 99999999999999999999 }}", "is too large"),
        ("{{ user.id | default(-1e16) }}", "is too large"),
    ],
)
def test_it_refuses_filter_sizes_and_numbers_past_their_bounds(retail, text, rule):
    with pytest.raises(PersonalizationError) as refused:
        check_text(text, retail)

    assert rule in refused.value.message


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("{{ 1.55 | round(1, 'ceil') }}", "1.6"),
        ("{{ 1234 | round(-2) }}", "1200"),
        ("{{ 'spring sale' | truncate(9, true, '..', 0) }}", "spring .."),
        ("{{ 'a-b-c' | replace('-', ' ', 1) }}", "a b-c"),
        ("{{ 'ff' | int(0, 16) }}", "255"),
        ("{{ user.id | default(1000000000000000) }}", "1000000000000000"),
    ],
)
def test_it_accepts_and_renders_sizes_within_bounds(retail, text, shown):
    check_text(text, retail)

    assert render_text(text, {}) == shown


def test_saving_a_text_evaluates_no_filter(retail, monkeypatch):
    # Jinja folds constant expressions at compile time unless told not to; a filter that ran
    # while the text was checked would record a call here.
    from campaigns import personalization

    calls = []
    upper = personalization._ENVIRONMENT.filters["upper"]
    monkeypatch.setitem(
        personalization._ENVIRONMENT.filters,
        "upper",
        pass_context(lambda context, *a: calls.append(a) or upper(context, *a)),
    )
    personalization._compiled.cache_clear()

    check_text("{{ 'constant' | upper }} only", retail)

    assert calls == []
    assert render_text("{{ 'constant' | upper }} only", {}) == "CONSTANT only"
    assert len(calls) == 1


def test_rendering_stops_when_a_message_spends_its_work_budget():
    # Each test replaces in a 1,000-character value: about 3,000 characters of work, no output.
    test = "{% if user.bio | replace('a', 'bb') == 'z' %}{% endif %}"
    text = test * (MAX_RENDER_WORK // 3000 + 2)
    context = {"user": {"bio": "a" * 1000}}

    with pytest.raises(PersonalizationError) as refused:
        render_text(text, context)

    assert f"more than {MAX_RENDER_WORK} characters handled" in refused.value.message
    assert render_text(test * 3 + "ok", context) == "ok"


def test_rendering_stops_at_its_deadline(monkeypatch):
    # A deadline already past stands in for a slow render: no clock is raced here.
    from campaigns import personalization

    monkeypatch.setattr(personalization, "RENDER_SECONDS", -1.0)

    with pytest.raises(PersonalizationError) as refused:
        render_text("{{ user.id | upper }}", {"user": {"id": "u-1"}})

    assert "to render on this device" in refused.value.message


def test_rendering_stops_at_the_output_cap():
    text = "{{ user.bio }}" * 5

    with pytest.raises(PersonalizationError) as refused:
        render_text(text, {"user": {"bio": "x" * 1000}})

    assert f"more than {MAX_OUTPUT_LENGTH} characters" in refused.value.message


def test_a_truncate_end_read_from_a_property_is_checked_when_rendering():
    text = "{{ 'spring sale' | truncate(5, end=user.suffix) }}"

    with pytest.raises(PersonalizationError) as refused:
        render_text(text, {"user": {"suffix": "…and more"}})

    assert "end (9 characters) is longer than its length (5)" in refused.value.message


# Every door refuses the text when it is saved, naming the field.


def test_the_composer_refuses_the_text_naming_the_field(bob, retail):
    response = schedule(logged_in(bob), form_data(retail, body_en=HOSTILE))

    assert response.status_code == 200
    assert "precision must be a whole number" in " ".join(errors(response)["body_en"])
    assert not Notification.objects.exists()


def test_the_preview_refuses_the_text_naming_the_field(bob, retail):
    result = logged_in(bob).post(PREVIEW, form_data(retail, title_en=HOSTILE)).json()

    assert result["valid"] is False
    assert "precision must be a whole number" in " ".join(result["errors"]["title_en"])


def test_the_push_api_refuses_the_text_naming_the_field(retail, retail_token):
    body = {"notification_content": {"name": "Sale", "title": "Sale", "body": HOSTILE}}

    response = send(retail_token, retail, body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "notification_content.body"
    assert "precision must be a whole number" in error["message"]
    assert not Notification.objects.exists()


def test_a_journey_step_refuses_the_text_naming_the_field(bob, retail):
    client = logged_in(bob)
    journey = Journey.objects.create(app=retail, name="Welcome", trigger=Trigger.FIRST_REGISTRATION)
    client.post(f"/journeys/journey/{journey.pk}/steps/add/")
    step = journey.steps.get()
    form = opened_form(client, change_url(step.notification_id))
    form["body_en"] = HOSTILE

    response = save_draft(client, form, change_url(step.notification_id))

    assert response.status_code == 200
    assert "precision must be a whole number" in " ".join(errors(response)["body_en"])
    step.notification.refresh_from_db()
    assert step.notification.body_en != HOSTILE


def test_a_text_stored_past_a_bound_fails_its_deliveries_with_the_reason(bob, retail, sandbox):
    register_device(retail, uuid.uuid4(), {"platform": "ios", "push_token": "ab" * 32})
    response = schedule(logged_in(bob), form_data(retail))
    assert response.status_code == 302 and response["Location"] != ADD
    notification = Notification.objects.get()
    # Written past the checks, as a text saved before the bounds existed would be.
    Notification.objects.filter(pk=notification.pk).update(body_en=HOSTILE)
    from campaigns import tasks

    tasks.start_send(notification.pk)
    send_due(notification)

    delivery = Delivery.objects.get(notification=notification)
    assert delivery.status == DeliveryStatus.FAILED
    assert "precision must be a whole number" in delivery.reason

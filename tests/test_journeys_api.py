"""The journeys API: a backend reads a journey's flow and figures, adds a wait for an event,
points its ways and sets exits; bad input and an active journey are refused, changing nothing."""

from __future__ import annotations

from datetime import timedelta

from journeys import events, services
from journeys.models import END, Journey, Step, StepKind, Trigger
from segments.models import Segment
from tests.test_device_api import api
from tests.test_journeys import ios


def url(app, journey: Journey, tail: str = "") -> str:
    return f"/api/v1/apps/{app.application_id}/journeys/{journey.pk}{tail}"


def draft(app) -> Journey:
    made = Journey.objects.create(
        app=app, name="Cart", trigger=Trigger.EVENT, event_name="cart_abandoned"
    )
    services.add_step(made)
    services.add_step(made)
    return made


def test_a_backend_adds_a_wait_and_branches_it_and_reads_the_flow(retail, retail_token):
    cart = Journey.objects.create(
        app=retail, name="Cart", trigger=Trigger.EVENT, event_name="cart_abandoned"
    )
    Segment.objects.create(app=retail, name="Shoppers", definition="userId startswith 's'")

    added = [
        api(retail_token).post(url(retail, cart, "/steps"), body, format="json")
        for body in (
            {"kind": "wait_for_event", "event_name": "purchase", "wait_minutes": 1440},
            {"kind": "message"},
            {"kind": "message"},
        )
    ]
    changed = api(retail_token).patch(
        url(retail, cart),
        {
            "exit_events": ["unsubscribed"],
            "exit_segment": "Shoppers",
            "steps": [
                {
                    "position": 1,
                    "then_step": 3,
                    "else_step": 2,
                    "event_conditions": {"plan": "gold"},
                },
                {"position": 2, "then_step": 0},
            ],
        },
        format="json",
    )

    assert [answer.status_code for answer in added] == [201, 201, 201]
    assert [answer.json()["kind"] for answer in added] == ["wait_for_event", "message", "message"]
    assert added[1].json()["notification_id"] is not None
    assert changed.status_code == 200, changed.json()
    body = changed.json()
    assert (body["exit_events"], body["exit_segment"]) == (["unsubscribed"], "Shoppers")
    wait = body["steps"][0]
    assert (wait["event_name"], wait["wait_minutes"], wait["then_step"], wait["else_step"]) == (
        "purchase",
        1440,
        3,
        2,
    )
    assert wait["event_conditions"] == {"plan": "gold"}
    assert body["steps"][1]["then_step"] == END
    listed = api(retail_token).get(f"/api/v1/apps/{retail.application_id}/journeys").json()
    assert listed["values"][0]["steps"] == body["steps"]


def test_the_flow_shows_each_ways_figures(retail, retail_token):
    cart = draft(retail)
    services.add_wait_step(cart, "purchase", timedelta(days=1))
    for step in Step.objects.filter(notification__isnull=False):
        step.notification.platforms, step.notification.title_en = ["ios"], "Hi"
        step.notification.save()
    services.set_exits(cart, ["unsubscribed"], None)
    Step.objects.filter(journey=cart, position=1).update(wait=timedelta(days=1))
    services.activate(cart)
    ios(retail, "ada")
    ios(retail, "bo")
    events.record(retail, "cart_abandoned", user_ids=["ada", "bo"])
    events.record(retail, "unsubscribed", user_ids=["bo"])

    body = api(retail_token).get(url(retail, cart)).json()

    assert body["enrollments"] == {"active": 1, "exited": 1}
    assert body["ended"] == {"exit_event": 1}
    assert (body["steps"][0]["waiting"], body["steps"][0]["exited"]) == (1, {"exit_event": 1})


def test_a_branch_backwards_is_refused_naming_the_field_and_changes_nothing(retail, retail_token):
    cart = draft(retail)
    services.add_wait_step(cart, "purchase")

    refused = api(retail_token).patch(
        url(retail, cart),
        {"exit_events": ["gone"], "steps": [{"position": 3, "else_step": 1}]},
        format="json",
    )

    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "steps.0.else_step"
    assert "later step than step 3" in refused.json()["error"]["message"]
    cart.refresh_from_db()
    assert cart.exit_events == []
    assert Step.objects.get(journey=cart, position=3).else_step is None


def test_bad_exits_and_steps_are_refused_with_their_fields(retail, retail_token, news):
    cart = draft(retail)
    Segment.objects.create(app=news, name="Theirs", definition="userId startswith 's'")
    cases = [
        ({"exit_events": ["cart_abandoned"]}, "exit_events", "starts this journey"),
        ({"exit_events": ["a", "a"]}, "exit_events", "once"),
        ({"exit_events": [" x"]}, "exit_events", "An event name"),
        ({"exit_segment": "Theirs"}, "exit_segment", "no segment named"),
        ({"steps": [{"position": 9}]}, "steps.0.position", "There is no step 9"),
        ({"steps": [{"position": 1, "else_step": 2}]}, "steps.0.else_step", "Only a wait"),
        ({"steps": [{"position": 1, "wait_minutes": 10**6}]}, "steps.0.wait_minutes", ""),
        ({"colour": "red"}, "colour", "Unknown field"),
        (
            {"steps": [{"position": 1, "event_conditions": {"a": "1"}}]},
            "steps.0.event_conditions",
            "Only a wait",
        ),
    ]
    for body, field, words in cases:
        answer = api(retail_token).patch(url(retail, cart), body, format="json")
        assert answer.status_code == 400, body
        assert answer.json()["error"]["field"] == field, body
        assert words in answer.json()["error"]["message"], body
    services.add_wait_step(cart, "purchase")
    many = {f"k{n}": "v" for n in range(6)}
    conditions = api(retail_token).patch(
        url(retail, cart), {"steps": [{"position": 3, "event_conditions": many}]}, format="json"
    )
    assert conditions.status_code == 400
    assert conditions.json()["error"]["field"] == "steps.0.event_conditions"
    assert "At most 5 conditions" in conditions.json()["error"]["message"]
    adding = api(retail_token).post(
        url(retail, cart, "/steps"), {"kind": "wait_for_event", "event_name": ""}, format="json"
    )
    assert adding.status_code == 400
    assert adding.json()["error"]["field"] == "event_name"
    assert cart.steps.count() == 3


def test_an_active_journey_answers_409_and_another_apps_journey_404(
    retail, retail_token, news, news_token
):
    cart = draft(retail)
    for step in cart.steps.all():
        step.notification.platforms, step.notification.title_en = ["ios"], "Hi"
        step.notification.save()
    services.activate(cart)

    busy = api(retail_token).patch(url(retail, cart), {"exit_events": ["x"]}, format="json")
    adding = api(retail_token).post(url(retail, cart, "/steps"), {"kind": "message"}, format="json")
    theirs = api(news_token).get(url(news, cart))

    assert (busy.status_code, adding.status_code, theirs.status_code) == (409, 409, 404)
    assert "Pause the journey" in busy.json()["error"]["message"]
    assert cart.steps.count() == 2 and not cart.steps.filter(kind=StepKind.WAIT_FOR_EVENT)

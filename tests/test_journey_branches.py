"""Journeys that branch and exit: a wait for an event goes one way if it came and another if it
timed out; an exit event or leaving a segment ends a person's journey at once, with the reason
kept; the flow is checked before it is stored and the page's figures count each way.

Sending goes through the sandbox gateways over real sockets, in this process.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns import delivery
from campaigns.models import Delivery, Notification
from devices.models import Device
from journeys import events, results, runner, services
from journeys.models import (
    END,
    EndReason,
    Enrollment,
    EnrollmentStatus,
    Journey,
    Step,
    Trigger,
)
from segments.models import Segment
from tests.conftest import set_sending_rules
from tests.test_journeys import ios
from tests.test_task_isolation import poison

pytest_plugins = ["tests.sandbox"]

DAY = timedelta(days=1)


@pytest.fixture
def app(retail):
    set_sending_rules(retail, min_interval_minutes=0, daily_maximum=0)
    return retail


def message(journey: Journey, title: str) -> Step:
    step = services.add_step(journey)
    Notification.objects.filter(pk=step.notification_id).update(
        platforms=["ios"], title_en=title, body_en="Hello"
    )
    step.wait = timedelta(0)
    step.save()
    return step


def cart_journey(app, **fields) -> Journey:
    """Abandoned cart: wait a day for a purchase; thank buyers (step 3), remind the others
    (step 2, which then ends)."""
    made = Journey.objects.create(
        app=app, name="Cart", trigger=Trigger.EVENT, event_name="cart_abandoned", **fields
    )
    services.add_wait_step(made, "purchase", DAY)
    message(made, "Come back")
    message(made, "Thanks")
    wait, remind, thank = made.steps.all()
    wait.then_step, wait.else_step, remind.then_step = 3, 2, END
    services.save_steps(made, [wait, remind, thank])
    services.activate(made)
    return made


def send_due(now=None) -> None:
    """Send what the runner made, here, as the workers would."""
    deliver(runner.run(now))


def deliver(notification_ids: list[int]) -> None:
    for notification_id in notification_ids:
        while ids := delivery.claim(notification_id):
            delivery.send_batch(ids)


def titles(sandbox) -> list[str]:
    return [line["payload"]["aps"]["alert"]["title"] for line in sandbox.received("apns")]


def test_an_event_before_the_timeout_takes_the_then_way(sandbox, app):
    cart = cart_journey(app)
    ada = ios(app, "ada")
    ios(app, "bo")
    events.record(app, "cart_abandoned", user_ids=["ada", "bo"])
    send_due()
    assert titles(sandbox) == []

    events.record(app, "purchase", user_ids=["ada"])
    send_due()

    assert titles(sandbox) == ["Thanks"]
    thank = cart.steps.get(position=3).notification
    assert list(Delivery.objects.filter(notification=thank).values_list("device", flat=True)) == [
        ada.pk
    ]
    done = Enrollment.objects.get(device=ada)
    assert (done.status, done.ended_reason) == (EnrollmentStatus.COMPLETED, EndReason.COMPLETED)
    wait = cart.steps.get(position=1)
    assert (wait.event_came, wait.timed_out) == (1, 0)


def test_a_timeout_takes_the_else_way(sandbox, app):
    cart = cart_journey(app)
    ios(app, "bo")
    events.record(app, "cart_abandoned", user_ids=["bo"])

    send_due(timezone.now() + DAY - timedelta(minutes=1))
    assert titles(sandbox) == []
    send_due(timezone.now() + DAY + timedelta(minutes=1))

    assert titles(sandbox) == ["Come back"]
    assert Enrollment.objects.get().status == EnrollmentStatus.COMPLETED
    wait = cart.steps.get(position=1)
    assert (wait.event_came, wait.timed_out) == (0, 1)


def test_a_timeout_that_leads_to_the_end_records_it(sandbox, app):
    cart = cart_journey(app)
    services.pause(cart)
    wait = cart.steps.get(position=1)
    wait.else_step = END
    services.save_steps(cart, list(cart.steps.all().exclude(pk=wait.pk)) + [wait])
    services.activate(cart)
    ios(app, "bo")
    events.record(app, "cart_abandoned", user_ids=["bo"])

    send_due(timezone.now() + DAY + timedelta(minutes=1))

    assert titles(sandbox) == []
    ended = Enrollment.objects.get()
    assert (ended.status, ended.ended_reason) == (EnrollmentStatus.COMPLETED, EndReason.TIMED_OUT)
    assert ended.ended_at is not None


def test_an_event_arriving_as_the_timeout_falls_due_takes_the_then_way(sandbox, app):
    cart_journey(app)
    ios(app, "ada")
    events.record(app, "cart_abandoned", user_ids=["ada"])
    Enrollment.objects.update(next_at=timezone.now() - timedelta(seconds=1))  # timed out, unrun

    events.record(app, "purchase", user_ids=["ada"])
    send_due()

    assert titles(sandbox) == ["Thanks"]


def test_an_event_reported_late_counts_only_if_it_happened_during_the_wait(sandbox, app):
    cart_journey(app)
    ios(app, "ada")
    events.record(app, "cart_abandoned", user_ids=["ada"])
    waiting_since = timezone.now()

    before = waiting_since - timedelta(minutes=5)
    events.record(app, "purchase", user_ids=["ada"], occurred_at=before)
    assert Enrollment.objects.get().event_came_at is None

    events.record(
        app, "purchase", user_ids=["ada"], occurred_at=waiting_since + timedelta(minutes=1)
    )
    assert Enrollment.objects.get().event_came_at is not None


def test_a_wait_with_conditions_counts_only_an_event_whose_properties_meet_them(sandbox, app):
    cart = cart_journey(app)
    services.pause(cart)
    steps = list(cart.steps.all())
    steps[0].event_conditions = {"plan": "gold", "items": "2"}
    services.save_steps(cart, steps)
    services.activate(cart)
    ios(app, "ada")
    events.record(app, "cart_abandoned", user_ids=["ada"])

    events.record(app, "purchase", user_ids=["ada"], properties={"plan": "gold", "items": 3})
    events.record(app, "purchase", user_ids=["ada"], properties={"plan": "gold"})
    send_due()
    assert titles(sandbox) == []
    events.record(app, "purchase", user_ids=["ada"], properties={"plan": "gold", "items": 2})
    send_due()

    assert titles(sandbox) == ["Thanks"]


def test_an_event_nobody_waits_for_changes_no_enrollment(app):
    cart_journey(app)
    ios(app, "ada")
    events.record(app, "cart_abandoned", user_ids=["ada"])
    before = Enrollment.objects.values_list("next_position", "next_at", "event_came_at").get()

    events.record(app, "purchase_elsewhere", user_ids=["ada"])
    events.record(app, "purchase", user_ids=["someone else"])

    after = Enrollment.objects.values_list("next_position", "next_at", "event_came_at").get()
    assert after == before


def welcome_exiting_on_unsubscribed(app) -> Journey:
    """An active journey: "Hello" at once, "Still there?" a day later; exits on unsubscribed."""
    welcome = Journey.objects.create(
        app=app, name="Welcome", trigger=Trigger.EVENT, event_name="signed_up"
    )
    message(welcome, "Hello")
    later = message(welcome, "Still there?")
    later.wait = DAY
    later.save()
    welcome.exit_events = ["unsubscribed"]
    welcome.save()
    services.activate(welcome)
    return welcome


def test_an_exit_event_stops_the_pending_steps(sandbox, app):
    welcome_exiting_on_unsubscribed(app)
    ios(app, "ada")
    events.record(app, "signed_up", user_ids=["ada"])
    send_due()

    events.record(app, "unsubscribed", user_ids=["ada"])
    send_due(timezone.now() + 2 * DAY)

    assert titles(sandbox) == ["Hello"]
    gone = Enrollment.objects.get()
    assert (gone.status, gone.ended_reason, gone.ended_event) == (
        EnrollmentStatus.EXITED,
        EndReason.EXIT_EVENT,
        "unsubscribed",
    )
    assert gone.next_at is None and gone.ended_at is not None


def test_an_exit_event_reported_before_a_step_due_in_the_same_run_stops_it(sandbox, app):
    cart = cart_journey(app, exit_events=["account_closed"])
    ios(app, "ada")
    events.record(app, "cart_abandoned", user_ids=["ada"])
    events.record(app, "purchase", user_ids=["ada"])  # step 3 due at once

    events.record(app, "account_closed", user_ids=["ada"])
    send_due()

    assert titles(sandbox) == []
    assert Enrollment.objects.get().status == EnrollmentStatus.EXITED
    assert not Delivery.objects.filter(notification__journey_step__journey=cart).exists()


def test_an_exit_skips_a_step_made_but_not_yet_sent(sandbox, app):
    welcome_exiting_on_unsubscribed(app)
    ios(app, "ada")
    events.record(app, "signed_up", user_ids=["ada"])
    made = runner.send_due()  # step 1's delivery is made; no worker has claimed it yet

    events.record(app, "unsubscribed", user_ids=["ada"])
    deliver(made)

    assert titles(sandbox) == []
    skipped = Delivery.objects.get()
    assert (skipped.status, skipped.reason) == (
        "skipped",
        "Left the journey on the event unsubscribed",
    )


def test_event_journeys_take_people_again_after_they_exited(sandbox, app):
    cart_journey(app, exit_events=["account_closed"])
    ios(app, "ada")
    events.record(app, "cart_abandoned", user_ids=["ada"])
    events.record(app, "account_closed", user_ids=["ada"])

    assert events.record(app, "cart_abandoned", user_ids=["ada"]).enrolled == 1

    statuses = sorted(Enrollment.objects.values_list("status", flat=True))
    assert statuses == [EnrollmentStatus.ACTIVE, EnrollmentStatus.EXITED]


def test_leaving_the_exit_segment_ends_the_journey_before_the_next_step(sandbox, app):
    shoppers = Segment.objects.create(app=app, name="Shoppers", definition="userId startswith 's'")
    welcome = Journey.objects.create(
        app=app, name="Welcome", trigger=Trigger.EVENT, event_name="signed_up"
    )
    message(welcome, "Hello")
    second = message(welcome, "Still there?")
    second.wait = DAY
    second.save()
    welcome.exit_segment = shoppers
    welcome.save()
    services.activate(welcome)
    leaving, staying = ios(app, "sam"), ios(app, "sue")
    events.record(app, "signed_up", user_ids=["sam", "sue"])
    send_due()
    assert titles(sandbox) == ["Hello", "Hello"]

    Device.objects.filter(pk=leaving.pk).update(user_id="tom")
    # Without the periodic sweep (run() does one first), only the claim's re-check sees it.
    deliver(runner.send_due(timezone.now() + 2 * DAY))

    assert titles(sandbox) == ["Hello", "Hello", "Still there?"]
    gone = Enrollment.objects.get(device=leaving)
    assert (gone.status, gone.ended_reason) == (EnrollmentStatus.EXITED, EndReason.LEFT_SEGMENT)
    assert Enrollment.objects.get(device=staying).status == EnrollmentStatus.COMPLETED


def test_the_periodic_run_exits_people_waiting_for_an_event_who_left_the_segment(app):
    shoppers = Segment.objects.create(app=app, name="Shoppers", definition="userId startswith 's'")
    cart_journey(app, exit_segment=shoppers)
    leaving = ios(app, "sam")
    events.record(app, "cart_abandoned", user_ids=["sam"])
    Device.objects.filter(pk=leaving.pk).update(user_id="tom")

    runner.run()

    gone = Enrollment.objects.get()
    assert (gone.status, gone.ended_reason) == (EnrollmentStatus.EXITED, EndReason.LEFT_SEGMENT)


def test_a_journey_whose_exit_segment_fails_leaves_the_others_running(sandbox, app):
    broken_segment = Segment.objects.create(app=app, name="doomed", definition="exists(platform)")
    broken = cart_journey(app, exit_segment=broken_segment)
    poison(broken_segment)
    welcome = Journey.objects.create(
        app=app, name="Welcome", trigger=Trigger.EVENT, event_name="cart_abandoned"
    )
    message(welcome, "Welcome")
    services.activate(welcome)
    ios(app, "ada")
    events.record(app, "cart_abandoned", user_ids=["ada"])
    events.record(app, "purchase", user_ids=["ada"])

    send_due()

    assert titles(sandbox) == ["Welcome"]
    broken.refresh_from_db()
    assert "cannot be evaluated" in broken.last_error or "line 1" in broken.last_error
    assert Enrollment.objects.get(journey=broken).status == EnrollmentStatus.ACTIVE


def test_branches_only_go_forward_to_steps_that_exist(app):
    cart = cart_journey(app)
    services.pause(cart)
    wait, remind, thank = cart.steps.all()

    wait.then_step = 1
    with pytest.raises(ValidationError) as backwards:
        services.save_steps(cart, [wait, remind, thank])
    wait.then_step, thank.then_step = 7, 2
    with pytest.raises(ValidationError) as missing:
        services.save_steps(cart, [wait, remind, thank])

    assert backwards.value.message_dict == {
        "step 1: then_step": ["Must lead to a later step than step 1 (journeys only go forward)."]
    }
    assert missing.value.message_dict == {
        "step 1: then_step": ["There is no step 7 in this journey."],
        "step 3: then_step": ["Must lead to a later step than step 3 (journeys only go forward)."],
    }
    assert Step.objects.get(pk=wait.pk).then_step == 3


def test_a_waits_conditions_are_bounded(app):
    cart = cart_journey(app)
    services.pause(cart)
    steps = list(cart.steps.all())

    steps[0].event_conditions = {f"key{n}": "x" for n in range(6)}
    with pytest.raises(ValidationError) as too_many:
        services.save_steps(cart, steps)
    steps[0].event_conditions = {"plan": "g" * 257}
    with pytest.raises(ValidationError) as too_long:
        services.save_steps(cart, steps)

    assert too_many.value.message_dict == {
        "step 1: event_conditions": ["At most 5 conditions, each a property and its value."]
    }
    assert too_long.value.message_dict == {
        "step 1: event_conditions": ["A value is a text of at most 256 characters."]
    }
    assert Step.objects.get(pk=steps[0].pk).event_conditions == {}


def test_a_wait_needs_an_event_name_and_a_timeout_of_a_minute_to_90_days(app):
    draft = Journey.objects.create(app=app, name="D", trigger=Trigger.EVENT, event_name="x")

    with pytest.raises(ValidationError) as unnamed:
        services.add_wait_step(draft, "")
    with pytest.raises(ValidationError) as endless:
        services.add_wait_step(draft, "purchase", timedelta(days=91))

    assert list(unnamed.value.message_dict) == ["step 1: event_name"]
    assert endless.value.message_dict == {
        "step 1: wait": ["A wait for an event times out after 1 minute to 90 days."]
    }
    assert not draft.steps.exists()


def test_an_active_journeys_flow_cannot_change_and_a_paused_ones_people_take_the_new_way(
    sandbox, app
):
    cart = cart_journey(app)
    ios(app, "bo")
    events.record(app, "cart_abandoned", user_ids=["bo"])
    wait, remind, thank = cart.steps.all()
    wait.else_step = END
    with pytest.raises(ValidationError, match="Pause the journey"):
        services.save_steps(cart, [wait, remind, thank])
    with pytest.raises(ValidationError, match="Pause the journey"):
        services.add_wait_step(cart, "purchase")

    services.pause(cart)
    wait.else_step = 3
    services.save_steps(cart, [wait, remind, thank])
    services.activate(cart)
    send_due(timezone.now() + 2 * DAY)

    assert titles(sandbox) == ["Thanks"]


def test_a_step_another_leads_to_cannot_be_removed(app):
    cart = cart_journey(app)
    services.pause(cart)
    thank = cart.steps.get(position=3)

    with pytest.raises(ValidationError, match="Step 3 is where step 1 leads; change that first"):
        services.remove_step(thank)

    assert cart.steps.count() == 3


def test_an_exit_event_cannot_be_the_trigger_and_is_checked_before_activating(app):
    made = Journey.objects.create(
        app=app, name="Loop", trigger=Trigger.EVENT, event_name="cart_abandoned"
    )
    message(made, "Hi")
    made.exit_events = ["cart_abandoned"]
    made.save()

    with pytest.raises(ValidationError, match="'cart_abandoned' starts this journey"):
        services.activate(made)


def test_the_figures_count_each_way_who_waits_and_who_exited(sandbox, app):
    cart = cart_journey(app, exit_events=["account_closed"])
    for user in ("ada", "bo", "cy", "di"):
        ios(app, user)
    events.record(app, "cart_abandoned", user_ids=["ada", "bo", "cy", "di"])
    events.record(app, "purchase", user_ids=["ada"])
    events.record(app, "account_closed", user_ids=["cy"])
    send_due()
    Enrollment.objects.filter(device__user_id="bo").update(next_at=timezone.now())
    send_due()

    wait, remind, thank = results.steps(Journey.objects.get(pk=cart.pk))

    assert (wait.reached, wait.step.event_came, wait.step.timed_out, wait.waiting) == (4, 1, 1, 1)
    assert wait.exited == {"Exited on an event": 1}
    assert (wait.then_label, wait.else_label) == ("step 3", "step 2")
    assert (remind.sent, remind.then_label) == (1, "the end")
    assert (thank.sent, thank.waiting) == (1, 0)
    assert results.ended(cart) == {"Completed": 2, "Exited on an event": 1}

"""Journeys: triggers enrol the right devices, steps are sent in turn with their waits, and
each step keeps the app's rules (opt-out, categories, caps) and reads the event's properties.

Sending goes through the sandbox gateways over real sockets, in this process.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns import delivery
from campaigns.models import Delivery, DeliveryStatus, Status
from devices.models import Device
from devices.registration import register_device
from journeys import events, runner, services
from journeys.models import Enrollment, EnrollmentStatus, Journey, JourneyStatus, Trigger
from segments.models import Segment
from tests.conftest import set_sending_rules
from tests.test_device_api import api
from tests.test_push_api import push_url

pytest_plugins = ["tests.sandbox"]


def ios(app, user_id: str | None = None, **fields) -> Device:
    token = "ab" + uuid.uuid4().hex * 2  # no sandbox fault starts with "ab"
    registration = {"platform": "ios", "push_token": token, "user_id": user_id, **fields}
    return register_device(app, uuid.uuid4(), registration)[0]


def journey(app, trigger: str = Trigger.EVENT, steps: int = 1, **fields) -> Journey:
    made = Journey.objects.create(app=app, name="Saved items on sale", trigger=trigger, **fields)
    for position in range(1, steps + 1):
        step = services.add_step(made)
        message = step.notification
        message.platforms = ["ios"]
        message.title_en = f"Step {position}"
        message.body_en = "{{ event.product | default('Something you saved') }} is on sale"
        message.save()
    return made


def send_due(app) -> None:
    """Send what the runner made, here, as the workers would."""
    for notification_id in runner.run():
        while ids := delivery.claim(notification_id):
            delivery.send_batch(ids)


@pytest.fixture
def app(retail):
    set_sending_rules(retail, min_interval_minutes=0, daily_maximum=0)
    return retail


def test_an_event_reaches_exactly_the_devices_of_the_people_it_names(sandbox, app, news):
    sale = journey(app, event_name="product_on_sale")
    services.activate(sale)
    ada_phone, ada_tablet, bo = ios(app, "ada"), ios(app, "ada"), ios(app, "bo")
    ios(app, "cy")
    ios(app)
    register_device(news, uuid.uuid4(), {"platform": "windows", "user_id": "ada"})

    recorded = events.record(
        app,
        "product_on_sale",
        user_ids=["ada", "bo", "nobody"],
        properties={"product": "Red shoes"},
    )
    events.record(app, "product_viewed", user_ids=["cy"])
    send_due(app)

    assert (recorded.devices, recorded.enrolled) == (3, 3)
    step = sale.steps.get().notification
    sent = Delivery.objects.filter(notification=step)
    assert set(sent.values_list("device_id", flat=True)) == {ada_phone.pk, ada_tablet.pk, bo.pk}
    assert set(sent.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    bodies = [line["payload"]["aps"]["alert"]["body"] for line in sandbox.received("apns")]
    assert bodies == ["Red shoes is on sale"] * 3


def test_an_event_naming_no_one_records_nothing(app):
    services.activate(journey(app, event_name="product_on_sale"))
    ios(app, "ada")

    recorded = events.record(app, "product_on_sale", user_ids=[], install_ids=[])

    assert (recorded.devices, recorded.enrolled) == (0, 0)
    assert not Enrollment.objects.exists()


def test_the_same_event_again_sends_the_step_again_once_the_first_pass_is_over(sandbox, app):
    sale = journey(app, event_name="product_on_sale")
    services.activate(sale)
    ios(app, "ada")

    events.record(app, "product_on_sale", user_ids=["ada"], properties={"product": "Hat"})
    # Still going through the journey: a second event meanwhile does not enrol again.
    assert events.record(app, "product_on_sale", user_ids=["ada"]).enrolled == 0
    send_due(app)
    events.record(app, "product_on_sale", user_ids=["ada"], properties={"product": "Scarf"})
    send_due(app)

    bodies = [line["payload"]["aps"]["alert"]["body"] for line in sandbox.received("apns")]
    assert bodies == ["Hat is on sale", "Scarf is on sale"]
    assert Enrollment.objects.filter(status=EnrollmentStatus.COMPLETED).count() == 2


def test_an_events_steps_are_sent_without_scanning_the_other_triggers(sandbox, app):
    welcome = journey(app, Trigger.FIRST_REGISTRATION)
    services.activate(journey(app, event_name="product_on_sale"))
    services.activate(welcome)
    ios(app, "ada")
    events.record(app, "product_on_sale", user_ids=["ada"], properties={"product": "Hat"})
    last_look = Journey.objects.get(pk=welcome.pk).scanned_at

    made = runner.send_due()

    assert len(made) == 1
    assert not Enrollment.objects.filter(journey=welcome).exists()
    assert Journey.objects.get(pk=welcome.pk).scanned_at == last_look


def test_a_welcome_series_sends_each_step_after_its_wait(sandbox, app):
    ios(app, "before")
    welcome = journey(app, Trigger.FIRST_REGISTRATION, steps=2)
    services.activate(welcome)
    newcomer = ios(app, "newcomer")

    send_due(app)
    enrollment = Enrollment.objects.get(journey=welcome)
    assert enrollment.device_id == newcomer.pk
    assert [line["payload"]["aps"]["alert"]["title"] for line in sandbox.received("apns")] == [
        "Step 1"
    ]

    runner.run(timezone.now() + timedelta(hours=23))
    assert len(sandbox.received("apns")) == 1
    later = timezone.now() + timedelta(days=1, minutes=1)
    for notification_id in runner.run(later):
        while ids := delivery.claim(notification_id):
            delivery.send_batch(ids)

    titles = [line["payload"]["aps"]["alert"]["title"] for line in sandbox.received("apns")]
    assert titles == ["Step 1", "Step 2"]
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED
    # A device that registers again is not new: the series is not sent twice.
    register_device(app, newcomer.install_id, {"platform": "ios", "push_token": "cd" * 32})
    runner.run(later)
    assert Enrollment.objects.filter(journey=welcome).count() == 1


def test_a_segment_journey_takes_only_devices_that_enter_after_it_starts(sandbox, app):
    vips = Segment.objects.create(app=app, name="VIPs", definition="userId startswith 'vip'")
    already = ios(app, "vip-1")
    entering = journey(app, Trigger.SEGMENT_ENTRY, segment=vips)
    services.activate(entering)
    later = ios(app, "someone")

    send_due(app)
    assert not Enrollment.objects.filter(journey=entering, status=EnrollmentStatus.ACTIVE).exists()
    Device.objects.filter(pk=later.pk).update(user_id="vip-2")
    send_due(app)

    step = entering.steps.get().notification
    assert list(Delivery.objects.filter(notification=step).values_list("device_id", flat=True)) == [
        later.pk
    ]
    assert Enrollment.objects.get(journey=entering, device=already).status == "already_in"


def test_a_step_skips_opted_out_devices_and_those_outside_its_category(sandbox, app):
    sale = journey(app, event_name="product_on_sale")
    step = sale.steps.get().notification
    step.category = "offers"
    step.save()
    services.activate(sale)
    opted_out = ios(app, "ada", push_enabled=False, categories=["offers"])
    no_offers = ios(app, "bo", categories=["news"])
    wants_offers = ios(app, "cy", categories=["offers"])

    events.record(app, "product_on_sale", user_ids=["ada", "bo", "cy"])
    send_due(app)

    outcome = dict(Delivery.objects.filter(notification=step).values_list("device_id", "reason"))
    assert outcome[opted_out.pk] == "Opted out of notifications"
    assert outcome[no_offers.pk] == "Not opted in to offers"
    assert Delivery.objects.get(notification=step, device=wants_offers).status == "sent"


def test_a_step_keeps_the_apps_frequency_cap(sandbox, app):
    set_sending_rules(app, min_interval_minutes=30)
    sale = journey(app, event_name="product_on_sale")
    services.activate(sale)
    ios(app, "ada")

    events.record(app, "product_on_sale", user_ids=["ada"])
    send_due(app)
    Enrollment.objects.update(status=EnrollmentStatus.COMPLETED)
    events.record(app, "product_on_sale", user_ids=["ada"])
    send_due(app)

    step = sale.steps.get().notification
    statuses = sorted(Delivery.objects.filter(notification=step).values_list("status", flat=True))
    assert statuses == [DeliveryStatus.SENT, DeliveryStatus.SKIPPED]


def test_a_paused_journey_takes_no_one_and_sends_nothing_until_it_resumes(sandbox, app):
    sale = journey(app, event_name="product_on_sale")
    services.activate(sale)
    ios(app, "ada")
    ios(app, "bo")
    events.record(app, "product_on_sale", user_ids=["ada"])

    services.pause(sale)
    assert events.record(app, "product_on_sale", user_ids=["bo"]).enrolled == 0
    send_due(app)
    assert sandbox.received() == []
    step = sale.steps.get().notification
    step.refresh_from_db()
    assert step.status == Status.DRAFT

    services.activate(sale)
    send_due(app)
    assert len(sandbox.received("apns")) == 1


def test_a_journey_that_cannot_run_is_refused_with_the_reasons(app):
    empty = Journey.objects.create(app=app, name="Empty", trigger=Trigger.EVENT)
    with pytest.raises(ValidationError) as refused:
        services.activate(empty)
    assert refused.value.messages == [
        "Name the event that starts the journey.",
        "Add at least one step.",
    ]
    blank = journey(app, event_name="x")
    blank.steps.get().notification.__class__.objects.update(title_en="", body_en="")
    with pytest.raises(ValidationError, match="Step 1: Write a title"):
        services.activate(blank)
    blank.refresh_from_db()
    assert blank.status == JourneyStatus.DRAFT


def test_steps_change_only_while_the_journey_is_not_active(app):
    sale = journey(app, event_name="x", steps=2)
    services.activate(sale)
    with pytest.raises(ValidationError, match="Pause the journey"):
        services.add_step(sale)
    services.pause(sale)
    services.add_step(sale)
    assert list(sale.steps.values_list("position", flat=True)) == [1, 2, 3]


def test_a_step_keeps_quiet_hours_and_waits_for_their_end(sandbox, app):
    set_sending_rules(
        app, quiet_hours_start=_hour(-1), quiet_hours_end=_hour(+2), default_time_zone="UTC"
    )
    sale = journey(app, event_name="product_on_sale")
    services.activate(sale)
    ios(app, "ada")

    events.record(app, "product_on_sale", user_ids=["ada"])
    send_due(app)

    waiting = Delivery.objects.get(notification=sale.steps.get().notification)
    assert (waiting.status, waiting.reason) == (DeliveryStatus.QUEUED, "Quiet hours")
    assert waiting.not_before > timezone.now() + timedelta(minutes=50)
    assert sandbox.received() == []


def _hour(offset: int):
    return (
        (timezone.now() + timedelta(hours=offset)).time().replace(minute=0, second=0, microsecond=0)
    )


def test_the_push_api_shows_a_running_step_as_automated(app, retail_token):
    sale = journey(app, event_name="product_on_sale")
    services.activate(sale)
    step = sale.steps.get().notification

    response = api(retail_token).get(push_url(app, step.pk))

    assert response.status_code == 200
    assert response.json()["state"] == "Automated"

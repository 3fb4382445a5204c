"""One app cannot stop another's periodic work: each journey, step and notification a Beat task
walks runs in its own error boundary. App B (news) is poisoned with a segment stored before the
definition rules, straight in the database; app A's (retail's) welcome series goes on, and B's
journey, segment or notification shows the error on its page until it runs fine again."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import delivery, tasks
from campaigns.models import DeliveryStatus, Notification, Status, TargetKind
from devices.models import Device, MobileApp
from devices.registration import register_device
from journeys import services
from journeys.models import Enrollment, Journey, Trigger
from journeys.runner import BROKEN_STEP_RETRY
from journeys.tasks import run_journeys
from segments.models import Segment
from tests.conftest import logged_in, set_sending_rules

pytest_plugins = ["tests.sandbox"]

# The audience of the report: it validated then and, months later, overflowed on every run.
OVERFLOWING = "lastSeen lt now+69890549h"
RULE = "a relative time within 100 years of now"


def ios(app: MobileApp) -> Device:
    token = "ab" + uuid.uuid4().hex * 2  # no sandbox fault starts with "ab"
    return register_device(app, uuid.uuid4(), {"platform": "ios", "push_token": token})[0]


def windows(app: MobileApp) -> Device:
    return register_device(app, uuid.uuid4(), {"platform": "windows"})[0]


def journey(app: MobileApp, trigger: str, **fields: object) -> Journey:
    """An active journey of one step on the app's platforms, saying hello."""
    made = Journey.objects.create(app=app, name=f"{app.name} welcome", trigger=trigger, **fields)
    step = services.add_step(made)
    Notification.objects.filter(pk=step.notification_id).update(
        platforms=app.platforms(), title_en="Welcome", body_en="Glad to have you"
    )
    services.activate(made)
    return made


def poison(segment: Segment) -> None:
    """Store a definition past today's rules, as a row saved before them would be."""
    Segment.objects.filter(pk=segment.pk).update(definition=OVERFLOWING)


def send_made(notification_ids: list[int]) -> None:
    for notification_id in notification_ids:
        while ids := delivery.claim(notification_id):
            delivery.send_batch(ids)


@pytest.fixture
def welcome(retail) -> Journey:
    """App A's welcome series, with no frequency cap in the way."""
    set_sending_rules(retail, min_interval_minutes=0, daily_maximum=0)
    return journey(retail, Trigger.FIRST_REGISTRATION)


@pytest.fixture
def doomed(news) -> Segment:
    return Segment.objects.create(app=news, name="doomed", definition="exists(platform)")


def welcomed(sandbox) -> list[str]:
    return [line["payload"]["aps"]["alert"]["title"] for line in sandbox.received("apns")]


def test_a_poisoned_segment_journey_of_app_b_leaves_app_as_welcome_series_running(
    sandbox, welcome, news, doomed, root
):
    # Made after A's, B's journey comes first in the run.
    broken = journey(news, Trigger.SEGMENT_ENTRY, segment=doomed)
    poison(doomed)
    newcomer = ios(welcome.app)

    run_journeys()
    send_made([welcome.steps.get().notification_id])

    assert Enrollment.objects.get(journey=welcome).device_id == newcomer.pk
    assert welcomed(sandbox) == ["Welcome"]
    broken.refresh_from_db()
    doomed.refresh_from_db()
    assert broken.last_error.startswith("The segment doomed cannot be evaluated: line 1")
    assert RULE in broken.last_error and broken.last_error_at is not None
    assert RULE in doomed.last_error and doomed.last_error_at is not None
    welcome.refresh_from_db()
    assert welcome.last_error == ""
    page = logged_in(root).get(f"/journeys/journey/{broken.pk}/change/").content.decode()
    assert "Its last run failed" in page and RULE in page
    page = logged_in(root).get(f"/segments/segment/{doomed.pk}/change/").content.decode()
    assert "Its last run failed" in page and RULE in page


def test_the_error_mark_clears_when_the_journey_next_runs_fine(welcome, news, doomed, root):
    broken = journey(news, Trigger.SEGMENT_ENTRY, segment=doomed)
    poison(doomed)
    run_journeys()
    assert Journey.objects.get(pk=broken.pk).last_error

    Segment.objects.filter(pk=doomed.pk).update(definition="exists(platform)")
    run_journeys()

    broken.refresh_from_db()
    doomed.refresh_from_db()
    assert (broken.last_error, broken.last_error_at) == ("", None)
    assert (doomed.last_error, doomed.last_error_at) == ("", None)
    page = logged_in(root).get(f"/journeys/journey/{broken.pk}/change/").content.decode()
    assert "Its last run failed" not in page


def test_a_step_that_cannot_be_made_waits_and_others_are_sent(sandbox, welcome, news, doomed):
    # B's welcome series targets the segment with its step: enrolling works, the step fails.
    broken = journey(news, Trigger.FIRST_REGISTRATION)
    step = broken.steps.get().notification
    step.target_kind = TargetKind.SEGMENTS
    step.save()
    step.segments.set([doomed])
    poison(doomed)
    windows(news)
    ios(welcome.app)
    started = timezone.now()

    run_journeys()
    send_made([welcome.steps.get().notification_id])

    assert welcomed(sandbox) == ["Welcome"]
    step.refresh_from_db()
    assert step.last_error.startswith("The segment doomed cannot be evaluated: line 1")
    assert RULE in Segment.objects.get(pk=doomed.pk).last_error
    waiting = Enrollment.objects.get(journey=broken)
    assert waiting.next_at >= started + BROKEN_STEP_RETRY
    assert not step.deliveries.exists()


def test_a_notification_that_cannot_start_is_marked_and_others_send(
    sandbox, retail, news, doomed, root
):
    ios(retail)
    windows(news)
    broken = Notification.objects.create(
        app=news,
        name="To the doomed",
        platforms=["windows"],
        title_en="Hi",
        target_kind=TargetKind.SEGMENTS,
        status=Status.SCHEDULED,
        send_at=timezone.now() - timedelta(minutes=1),
    )
    broken.segments.set([doomed])
    fine = Notification.objects.create(
        app=retail,
        name="To everyone",
        platforms=["ios"],
        title_en="Sale",
        status=Status.SCHEDULED,
        send_at=timezone.now() - timedelta(minutes=1),
    )
    poison(doomed)

    for notification in (broken, fine):
        tasks.start_send(notification.pk)
    send_made([fine.pk])

    assert list(fine.deliveries.values_list("status", flat=True)) == [DeliveryStatus.SENT]
    broken.refresh_from_db()
    assert broken.status == Status.SCHEDULED  # tried again at the next sweep
    assert broken.last_error.startswith("The segment doomed cannot be evaluated: line 1")
    assert RULE in broken.last_error
    assert RULE in Segment.objects.get(pk=doomed.pk).last_error
    page = logged_in(root).get(f"/campaigns/notification/{broken.pk}/change/").content.decode()
    assert "Its last run failed" in page and RULE in page

    Segment.objects.filter(pk=doomed.pk).update(definition="exists(platform)")
    tasks.start_send(broken.pk)

    broken.refresh_from_db()
    assert broken.status == Status.SENDING and broken.last_error == ""


def test_a_journey_with_a_bad_segment_cannot_be_activated(news, doomed):
    poison(doomed)
    made = Journey.objects.create(
        app=news, name="Doomed", trigger=Trigger.SEGMENT_ENTRY, segment=doomed
    )
    services.add_step(made)

    problems = services.problems(Journey.objects.get(pk=made.pk))

    assert any("The segment doomed cannot be evaluated: line 1" in p for p in problems)
    assert any(RULE in problem for problem in problems)


def test_a_broken_ab_test_is_marked_and_the_others_decide(retail, news, root):
    from experiments import services as experiments
    from experiments import tasks as experiment_tasks
    from experiments.models import ArmKind, Experiment, ExperimentStatus

    draft = Notification.objects.create(app=retail, name="Sale", platforms=["ios"], title_en="Hi")
    fine = experiments.create("Sale wording", draft, None, variants=2)
    fine.winner_after_hours = 2
    fine.save()
    experiments.split_evenly(fine)
    fine.arms.update(percent=20)
    experiments.start(fine)
    arms = fine.arms.values_list("notification_id", flat=True)
    Notification.objects.filter(pk__in=list(arms)).update(
        started_at=timezone.now() - timedelta(hours=3)
    )
    # Running, due, and with no arms left: deciding it cannot even find its control.
    broken = Experiment.objects.create(
        app=news, name="Armless", status=ExperimentStatus.RUNNING, winner_after_hours=1
    )

    experiment_tasks.decide()

    fine.refresh_from_db()
    assert fine.status == ExperimentStatus.DECIDED
    assert fine.arms.filter(kind=ArmKind.WINNER).exists()
    broken.refresh_from_db()
    assert broken.status == ExperimentStatus.RUNNING
    assert "list index out of range" in broken.last_error and broken.last_error_at is not None
    page = logged_in(root).get(f"/experiments/experiment/{broken.pk}/change/").content.decode()
    assert "list index out of range" in page

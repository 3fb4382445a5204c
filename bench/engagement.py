"""Benchmark A/B tests and journeys on PostgreSQL: the hot paths they add.

- ab_fan_out: the arms of a 45/45 test with a 10% holdout fanned out, against one plain
  notification's fan-out to the same audience (the assignment is computed in SQL).
- event_enrollment: one event naming 10,000 users, stored per device and enrolled.
- welcome_scan: a welcome journey finding every device first seen since its last look.
- journey_steps: the runner turning due enrollments into deliveries.
- wait_resume: one event resuming the 10,000 people's enrollments waiting for it (one UPDATE).
- branch_steps: the runner taking 10,000 due waits (timed out or resumed) down their ways, in a
  journey with an exit segment re-checked inside each claim, and sending the message they lead to.

The devices are made inside PostgreSQL once and kept; everything else starts over each run.
Prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pushcenter.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_engagement")

from bench.segment_evaluation import generate_devices, prepare_database  # noqa: E402

EVENT_USERS = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=200_000)
    parser.add_argument("--only", default="", help="Comma-separated bench names to run.")
    args = parser.parse_args()
    prepare_database()
    import django

    django.setup()
    app = bench_app(args.devices)
    measures = (
        ab_fan_out,
        event_enrollment,
        welcome_scan,
        journey_steps,
        wait_resume,
        branch_steps,
    )
    only = set(filter(None, args.only.split(",")))
    for measure in (m for m in measures if not only or m.__name__ in only):
        start_over(app)
        print(json.dumps(measure(app)))


def bench_app(count: int):
    from devices.models import MobileApp, Organization

    org, _ = Organization.objects.get_or_create(name="bench", defaults={"display_name": "Bench"})
    app, _ = MobileApp.objects.get_or_create(
        organization=org, name="engagement", defaults={"display_name": "Engagement bench"}
    )
    if app.devices.count() != count:
        generate_devices(app, count)
    return app


def start_over(app) -> None:
    from django.db import connection

    from campaigns.models import Notification
    from events.models import Event
    from journeys import services
    from journeys.models import Journey
    from segments.models import Segment

    with connection.cursor() as cursor:
        # Django's cascade would name each of 200,000 rows in one statement's parameters.
        cursor.execute(
            "DELETE FROM journeys_enrollment WHERE journey_id IN "
            "(SELECT id FROM journeys_journey WHERE app_id = %s)",
            [app.pk],
        )
        cursor.execute(
            "DELETE FROM campaigns_delivery WHERE notification_id IN "
            "(SELECT id FROM campaigns_notification WHERE app_id = %s)",
            [app.pk],
        )
    for journey in Journey.objects.filter(app=app):
        services.delete(journey)
    Segment.objects.filter(app=app).delete()
    Event.objects.filter(app=app).delete()
    Notification.objects.filter(app=app).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE campaigns_delivery")
        cursor.execute("VACUUM ANALYZE journeys_enrollment")


def ab_fan_out(app) -> dict:
    from campaigns import delivery
    from campaigns.models import Delivery, Notification, Status
    from experiments import services

    plain = _notification(app, "Plain")
    Notification.objects.filter(pk=plain.pk).update(status=Status.SCHEDULED)
    plain_seconds = _timed(lambda: delivery.start(plain.pk))
    experiment = services.create("Bench test", _notification(app, "A"), None)
    experiment.holdout_percent = 10
    experiment.save()
    services.split_evenly(experiment)
    services.start(experiment)
    arms = list(experiment.arms.values_list("notification_id", flat=True))
    seconds = _timed(lambda: [delivery.start(pk) for pk in arms])
    made = Delivery.objects.filter(notification_id__in=arms).count()
    return {
        "bench": "ab_fan_out",
        "value": round(seconds, 2),
        "unit": "s",
        "deliveries": made,
        "per_second": round(made / seconds),
        "plain_fan_out_s": round(plain_seconds, 2),
        "arms": len(arms),
    }


def event_enrollment(app) -> dict:
    from journeys import events

    journey = _journey(app, "event", event_name="bench_event")
    users = [f"user-{n}" for n in range(1, EVENT_USERS + 1)]
    recorded = None

    def record() -> None:
        nonlocal recorded
        recorded = events.record(app, "bench_event", user_ids=users, properties={"sku": "A1"})

    seconds = _timed(record)
    return {
        "bench": "event_enrollment",
        "value": round(seconds, 2),
        "unit": "s",
        "users": len(users),
        "events_stored": recorded.devices,
        "enrolled": recorded.enrolled,
        "journey": journey.pk,
    }


def welcome_scan(app) -> dict:
    from django.utils import timezone

    from journeys import enrollment
    from journeys.models import Journey

    journey = _journey(app, "first_registration")
    # As if every device had registered since the journey's last look.
    long_ago = timezone.now() - timedelta(days=365)
    Journey.objects.filter(pk=journey.pk).update(activated_at=long_ago, scanned_at=long_ago)
    entered = 0

    def scan() -> None:
        nonlocal entered
        entered = enrollment.scan(journey.pk, timezone.now())

    seconds = _timed(scan)
    return {
        "bench": "welcome_scan",
        "value": round(seconds, 2),
        "unit": "s",
        "enrolled": entered,
        "per_second": round(entered / seconds),
    }


def journey_steps(app) -> dict:
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Delivery
    from journeys import runner

    journey = _journey(app, "first_registration")
    with connection.cursor() as cursor:
        cursor.execute(ENROL_EVERY_DEVICE, [journey.pk, timedelta(0), app.pk])
        cursor.execute("ANALYZE journeys_enrollment")
    seconds = _timed(lambda: runner.run(timezone.now()))
    made = Delivery.objects.filter(notification__journey_step__journey=journey).count()
    return {
        "bench": "journey_steps",
        "value": round(seconds, 2),
        "unit": "s",
        "deliveries": made,
        "per_second": round(made / seconds),
        "per_10000_s": round(seconds / made * 10_000, 3),
        "batch": runner.BATCH_SIZE,
    }


ENROL_EVERY_DEVICE = (
    "INSERT INTO journeys_enrollment (journey_id, device_id, status, next_position, next_at, "
    "properties, created_at, updated_at, ended_reason, ended_event) SELECT %s, id, 'active', 1, "
    "now() + %s, NULL, now(), now(), '', '' FROM devices_device WHERE app_id = %s"
)


ENROL_SOME_DEVICES = ENROL_EVERY_DEVICE.replace(
    "FROM devices_device WHERE app_id = %s",
    "FROM (SELECT id FROM devices_device WHERE app_id = %s ORDER BY id LIMIT %s) AS d",
)


def wait_resume(app) -> dict:
    from django.db import connection
    from django.utils import timezone

    from journeys import events

    journey = _branched_journey(app)
    with connection.cursor() as cursor:
        # Everyone waits at step 1, up to 3 days, for bench_purchase.
        cursor.execute(ENROL_EVERY_DEVICE, [journey.pk, timedelta(days=3), app.pk])
        cursor.execute("ANALYZE journeys_enrollment")
    users = [f"user-{n}" for n in range(1, EVENT_USERS + 1)]
    devices = app.devices.filter(user_id__in=users)
    resumed = 0

    def resume() -> None:
        nonlocal resumed
        resumed = events.resume_waits(app, "bench_purchase", devices, timezone.now())

    seconds = _timed(resume)
    waiting = journey.enrollments.count()
    return {
        "bench": "wait_resume",
        "value": round(seconds, 3),
        "unit": "s",
        "users": len(users),
        "resumed": resumed,
        "waiting_in_journey": waiting,
    }


def branch_steps(app) -> dict:
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Delivery
    from journeys import runner
    from segments.models import Segment

    segment = Segment.objects.create(
        app=app, name="Bench exit", definition="carrierCountry ne 'JP'"
    )
    journey = _branched_journey(app, exit_segment=segment)
    with connection.cursor() as cursor:
        cursor.execute(ENROL_SOME_DEVICES, [journey.pk, timedelta(0), app.pk, 10_000])
        # Half resumed by their event, half timed out: both ways are taken.
        cursor.execute(
            "UPDATE journeys_enrollment SET next_at = now() - interval '1 minute', "
            "event_came_at = CASE WHEN id %% 2 = 0 THEN now() END WHERE journey_id = %s",
            [journey.pk],
        )
        cursor.execute("ANALYZE journeys_enrollment")
    seconds = _timed(lambda: runner.send_due(timezone.now()))
    made = Delivery.objects.filter(notification__journey_step__journey=journey).count()
    ended = journey.enrollments.exclude(ended_reason="").values_list("ended_reason", flat=True)
    return {
        "bench": "branch_steps",
        "value": round(seconds, 2),
        "unit": "s",
        "enrollments": 10_000,
        "deliveries": made,
        "exited_left_segment": sum(1 for reason in ended if reason == "left_segment"),
        "batch": runner.BATCH_SIZE,
    }


def _branched_journey(app, **fields):
    """Wait up to 3 days for bench_purchase; then a thank-you (step 2); else the end."""
    from campaigns.models import Notification
    from journeys import services
    from journeys.models import END, Journey

    journey = Journey.objects.create(
        app=app, name="Bench branches", trigger="event", event_name="bench_cart", **fields
    )
    services.add_wait_step(journey, "bench_purchase", timedelta(days=3))
    step = services.add_step(journey)
    Notification.objects.filter(pk=step.notification_id).update(
        platforms=["ios", "android", "windows"], title_en="Bench"
    )
    wait, thanks = journey.steps.all()
    wait.else_step, thanks.wait = END, timedelta(0)
    services.save_steps(journey, [wait, thanks])
    services.activate(journey)
    return journey


def _notification(app, name: str):
    from campaigns.models import Notification

    return Notification.objects.create(
        app=app, name=name, platforms=["ios", "android", "windows"], title_en="Bench"
    )


def _journey(app, trigger: str, **fields):
    from campaigns.models import Notification
    from journeys import services
    from journeys.models import Journey

    journey = Journey.objects.create(app=app, name="Bench", trigger=trigger, **fields)
    step = services.add_step(journey)
    Notification.objects.filter(pk=step.notification_id).update(
        platforms=["ios", "android", "windows"], title_en="Bench"
    )
    services.activate(journey)
    return journey


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()

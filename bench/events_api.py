"""Benchmark the events API through the real HTTP stack, as the registration benchmark does.

gunicorn serves the project on loopback against PostgreSQL with Redis as the broker; wrk posts
product_on_sale for one user at a time, picked at random among 100,000 users each with one
device, to an active journey that half of them are already going through. Each request stores
the event, enrols the user's device unless it is already in the journey, and on an enrolment
queues the runner's task.
Prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.registration import bench_environment, measure, prepare_database, run  # noqa: E402

BROKER = "redis://127.0.0.1:6379/8"
SEED = """
import django, json, sys
django.setup()
from django.db import connection
from bench.segment_evaluation import generate_devices
from campaigns.models import Notification
from devices.models import MobileApp, Organization
from devices.services import issue_api_token
from journeys import services
from events.models import Event
from journeys.models import Journey, Trigger

# The journey has been running: the devices of the upper half of the users are going through it.
ALREADY_IN = '''
INSERT INTO journeys_enrollment (journey_id, device_id, status, next_position, next_at,
    created_at, updated_at)
SELECT %(journey)s, id, 'active', 1, now() + interval '1 day', now(), now()
FROM devices_device WHERE app_id = %(app)s AND split_part(user_id, '-', 2)::int >= %(half)s
'''

count = int(sys.argv[1])
org, _ = Organization.objects.get_or_create(name="bench", defaults={"display_name": "Bench"})
app, _ = MobileApp.objects.get_or_create(
    organization=org, name="events", defaults={"display_name": "Events bench"}
)
if app.devices.count() != count:
    generate_devices(app, count)
for journey in Journey.objects.filter(app=app):
    services.delete(journey)
Event.objects.filter(app=app).delete()
Notification.objects.filter(app=app).delete()
journey = Journey.objects.create(
    app=app, name="Saved items on sale", trigger=Trigger.EVENT, event_name="product_on_sale"
)
message = services.add_step(journey).notification
message.platforms, message.title_en = ["ios", "android", "windows"], "On sale"
message.body_en = "{{ event.product }} is on sale"
message.save()
services.activate(journey)
with connection.cursor() as cursor:
    cursor.execute(ALREADY_IN, {"journey": journey.pk, "app": app.pk, "half": count // 2})
    cursor.execute("ANALYZE journeys_enrollment")
token = issue_api_token(app, "bench")[1]
print(json.dumps({"pk": app.pk, "app_id": str(app.application_id), "token": token}))
"""
COUNTS = """
SELECT (SELECT count(*) FROM events_event WHERE app_id = %(app)s),
       (SELECT count(*) FROM journeys_enrollment e JOIN journeys_journey j ON j.id = e.journey_id
        WHERE j.app_id = %(app)s)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=12)
    parser.add_argument("--users", type=int, default=100_000)
    args = parser.parse_args()
    env = {**bench_environment(), "CELERY_BROKER_URL": BROKER}
    prepare_database(env)
    broker = redis.Redis.from_url(BROKER)
    broker.flushdb()
    seed = run([sys.executable, "-c", SEED, str(args.users)], env).strip().splitlines()
    app = json.loads(seed[-1])
    path = f"/api/v1/apps/{app['app_id']}/events"
    kind = ("event", str(args.users))
    result = measure(env, "pushcenter.settings", path, app["token"], args, kind)
    with psycopg.connect(env["DATABASE_URL"]) as database:
        events, enrolled = database.execute(COUNTS, {"app": app["pk"]}).fetchone()
    broker.flushdb()
    print(
        json.dumps(
            {
                "bench": "events_api",
                "value": result["rps"],
                "unit": "requests/s",
                "p99_ms": result["p99_ms"],
                "p50_ms": result["p50_ms"],
                "events_stored_with_warm_up": events,
                "devices_enrolled_with_warm_up": enrolled - args.users // 2,
                "users": args.users,
                "workers": args.workers,
                "connections": args.connections,
                "seconds": args.seconds,
            }
        )
    )


if __name__ == "__main__":
    main()

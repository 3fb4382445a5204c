"""Benchmark the metrics pages and the notifications list over 10,000,000 deliveries.

Ten notifications of 1,000,000 deliveries each (the segments benchmark's devices, generated once
in PostgreSQL and kept between runs), each with a conversion goal (purchase within a day,
revenue summed), are rolled up, then each page is requested through Django in this process, as
the dashboard serves it. Before that, the conversion task counts batches of 10,000 new purchase
events against them. Prints one JSON object per line: the conversion task's time per 10,000
events, the server time of each page (median of the runs, and the slowest) and the time to
roll up one notification.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pushcenter.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pushcenter_bench")

from bench.segment_evaluation import prepare_database, seeded_app  # noqa: E402

TARGET_MS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notifications", type=int, default=10)
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--event-batches", type=int, default=5)
    args = parser.parse_args()
    prepare_database()
    import django

    django.setup()
    app = seeded_app(args.devices)
    notifications = seeded_notifications(app, args.notifications, args.devices)
    set_goals(app)
    print(json.dumps(count_conversions(app, notifications[0], args.event_batches)))
    print(json.dumps(roll_up(notifications[0])))
    for notification in notifications[1:]:
        from metrics import rollup

        rollup.refresh(notification)
    client = logged_in_client()
    pages = {
        "metrics_page": f"/campaigns/notification/{notifications[0].pk}/metrics/",
        "notifications_list": "/campaigns/notification/",
        "notifications_list_completed": "/campaigns/notification/?view=completed",
        "app_overview": f"/devices/mobileapp/{app.pk}/metrics/",
    }
    deliveries = total_deliveries()
    for name, url in pages.items():
        print(json.dumps(measure(client, name, url, args.repeat, deliveries)))


def seeded_notifications(app, count: int, devices: int) -> list:
    from campaigns.models import Notification, Status

    found = list(Notification.objects.filter(app=app, name__startswith="Bench sale"))
    if len(found) == count and all(n.deliveries.count() == devices for n in found[:1]):
        return sorted(found, key=lambda n: n.pk)
    Notification.objects.filter(app=app).delete()
    started = time.perf_counter()
    made = []
    for index in range(count):
        notification = Notification.objects.create(
            app=app, name=f"Bench sale {index + 1}", title_en="Half price", status=Status.COMPLETED
        )
        generate_deliveries(notification, app, index)
        made.append(notification)
    analyze()
    seconds = round(time.perf_counter() - started, 1)
    print(json.dumps({"bench": "metrics_generate_deliveries", "value": seconds, "unit": "s"}))
    return made


def generate_deliveries(notification, app, index: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(GENERATE, {"notification": notification.pk, "app": app.pk, "day": index})
        cursor.execute(
            "UPDATE campaigns_notification SET started_at = s, completed_at = s + interval "
            "'2 minutes' FROM (SELECT now() - %(day)s * interval '1 day' AS s) t WHERE id = %(n)s",
            {"day": index, "n": notification.pk},
        )


# Outcomes by a hash of the device id: 93% sent, 3% failed, 1% channel expired, 1% unknown,
# 2% skipped; sends spread over two minutes; 8% of the sent launched within two days.
GENERATE = """
INSERT INTO campaigns_delivery (notification_id, device_id, platform, language, status, reason,
    attempts, provider_id, sent_at, launched_at, updated_at)
SELECT %(notification)s, d.id, d.platform, d.language, o.status,
    CASE WHEN o.status = 'skipped' THEN 'Opted out of notifications' ELSE '' END, 1, '',
    CASE WHEN o.status = 'sent' THEN o.at END,
    CASE WHEN o.status = 'sent' AND o.h %% 100 < 8 THEN o.at + (o.h %% 2880) * interval '1 minute'
    END,
    o.at
FROM devices_device d,
    LATERAL (SELECT (d.id * 2654435761) %% 1000 AS h) hash,
    LATERAL (SELECT hash.h,
        CASE WHEN hash.h < 930 THEN 'sent' WHEN hash.h < 960 THEN 'failed'
             WHEN hash.h < 970 THEN 'channel_expired' WHEN hash.h < 980 THEN 'unknown'
             ELSE 'skipped' END AS status,
        now() - %(day)s * interval '1 day' + (d.id %% 120) * interval '1 second' AS at) o
WHERE d.app_id = %(app)s
"""


EVENTS_PER_BATCH = 10_000


def set_goals(app) -> None:
    """Give every notification the goal; forget the events and conversions of earlier runs."""
    from campaigns.models import Conversion, ConversionMark, Notification
    from events.models import Event

    notifications = Notification.objects.filter(app=app)
    notifications.update(
        conversion_event="purchase",
        conversion_window_minutes=24 * 60,
        conversion_value_property="revenue",
    )
    Conversion.objects.filter(notification__in=notifications).delete()
    Event.objects.filter(app=app).delete()
    ConversionMark.objects.filter(app=app).delete()


def count_conversions(app, notification, batches: int) -> dict:
    """Time the conversion task on batches of 10,000 new purchases, 30 minutes after sending.

    Each event's device had a delivery of every notification (one a day for ten days), so each
    event is joined to ten deliveries and the window keeps the latest one's.
    """
    from campaigns import conversions

    times, made = [], 0
    for batch in range(batches):
        report_purchases(app, notification, batch)
        conversions.count(app.pk)  # a run reads the events the run before it saw
        started = time.perf_counter()
        made += len(conversions.count(app.pk))
        times.append((time.perf_counter() - started) * 1000)
    return {
        "bench": "conversions_per_10000_events",
        "value": round(statistics.median(times), 1),
        "unit": "ms",
        "slowest_ms": round(max(times), 1),
        "batches": batches,
        "conversions": made,
        "deliveries": total_deliveries(),
    }


def report_purchases(app, notification, batch: int) -> None:
    """Store 10,000 purchases of sent devices, as the Events API stores them (one row each)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO events_event (app_id, device_id, name, properties, source, occurred_at) "
            "SELECT %(app)s, device_id, 'purchase', "
            "jsonb_build_object('revenue', (device_id %% 5000) / 100.0), 'api', "
            "sent_at + interval '30 minutes' FROM campaigns_delivery "
            "WHERE notification_id = %(n)s AND status = 'sent' "
            "ORDER BY device_id OFFSET %(skip)s LIMIT %(size)s",
            {
                "app": app.pk,
                "n": notification.pk,
                "skip": batch * EVENTS_PER_BATCH,
                "size": EVENTS_PER_BATCH,
            },
        )


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE campaigns_delivery")


def roll_up(notification) -> dict:
    from metrics import rollup

    started = time.perf_counter()
    rollup.refresh(notification)
    return {
        "bench": "metrics_roll_up_one_notification",
        "value": round((time.perf_counter() - started) * 1000),
        "unit": "ms",
        "deliveries": notification.deliveries.count(),
    }


def logged_in_client():
    from django.contrib.auth.models import User
    from django.test import Client

    user, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def total_deliveries() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", ["campaigns_delivery"]
        )
        return cursor.fetchone()[0]


def measure(client, name: str, url: str, repeat: int, deliveries: int) -> dict:
    client.get(url)  # warm: templates, the first connection
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return {
        "bench": name,
        "value": round(statistics.median(times), 1),
        "unit": "ms",
        "slowest_ms": round(max(times), 1),
        "deliveries": deliveries,
        "target_ms": TARGET_MS,
        "url": url,
    }


if __name__ == "__main__":
    main()

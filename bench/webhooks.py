"""Benchmark webhooks on PostgreSQL: what capturing costs a send, and how fast events go out.

One process, its own database (``bench_webhooks``), the providers and the webhook endpoint all
pointed at the nginx sink of bench/nginx_sink.py (200 at once). iOS devices are seeded once.

- send_batch_without_endpoint / send_batch_with_endpoint: milliseconds per sending batch of
  1,000 (claim, render, send to the sink, record), the same app sending the same audience,
  alternating without and with an endpoint that wants sent, failed and opted_out, same run;
- capture_added_per_batch: their difference, in ms and as a share of the batch;
- events_captured: events per second the capture statement keeps (its INSERT … SELECT timed
  alone over the sent deliveries, 1,000 ids a statement);
- dispatch: events per second batched, signed and POSTed (100 a POST) to the local receiver by
  ``dispatch.run_due`` in this one process.

Prints one JSON object per line, with the machine's load average.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from nginx_sink import Sink, nginx_sink  # noqa: E402

DATABASE = "bench_webhooks"
SERVER = "postgres://postgres@127.0.0.1:5432"
ENCRYPTION_KEY = base64.urlsafe_b64encode(b"push-center-bench-webhooks-key!!").decode()
ROUNDS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=20_000)
    args = parser.parse_args()
    _create_database(DATABASE)
    with nginx_sink() as sink:
        _configure(sink)
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        app = _app()
        _seed(app, args.devices)
        for line in measure(app, sink, args.devices):
            print(json.dumps({**line, "load_average": _load()}), flush=True)


def measure(app, sink: Sink, devices: int) -> list[dict]:  # noqa: ANN001
    from webhooks import services
    from webhooks.models import Endpoint

    Endpoint.objects.filter(app=app).delete()
    timings: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(ROUNDS):
        for with_endpoint in (False, True):
            _reset(app)
            if with_endpoint:
                services.create_endpoint(
                    app, f"{sink.origin}/hooks", ["sent", "failed", "opted_out"]
                )
            timings[with_endpoint].extend(_send(app))
    without, with_ = (_median(timings[False]), _median(timings[True]))
    base = {"devices": devices, "batch": 1000}
    return [
        {"bench": "send_batch_without_endpoint", "value": round(without, 1), "unit": "ms", **base},
        {"bench": "send_batch_with_endpoint", "value": round(with_, 1), "unit": "ms", **base},
        {
            "bench": "capture_added_per_batch",
            "value": round(with_ - without, 2),
            "unit": "ms",
            "share": round((with_ - without) / without, 4),
            **base,
        },
        _events_captured(app),
        _dispatch(app),
    ]


def _send(app) -> list[float]:  # noqa: ANN001
    """Send one notification to every device; return each batch's milliseconds."""
    from django.utils import timezone

    from campaigns import delivery
    from campaigns.models import Notification, Status

    notification = Notification.objects.create(
        app=app,
        name="bench",
        platforms=["ios"],
        status=Status.SCHEDULED,
        send_at=timezone.now(),
        title_en="Bench",
    )
    delivery.start(notification.pk)
    batches = []
    while ids := delivery.claim(notification.pk):
        begun = time.perf_counter()
        delivery.send_batch(ids)
        batches.append((time.perf_counter() - begun) * 1000)
    return batches


def _events_captured(app) -> dict:  # noqa: ANN001
    """Time the capture statement alone over the last send's deliveries."""
    from datetime import UTC, datetime

    from campaigns.models import Delivery
    from webhooks import capture
    from webhooks.models import Event

    Event.objects.all().delete()
    ids = list(
        Delivery.objects.filter(notification__app=app, status="sent").values_list("pk", flat=True)
    )
    since = datetime(2000, 1, 1, tzinfo=UTC)
    begun = time.perf_counter()
    for start in range(0, len(ids), 1000):
        capture.receive_answers(app.pk, ids[start : start + 1000], since)
    seconds = time.perf_counter() - begun
    kept = Event.objects.count()
    return {"bench": "events_captured", "value": round(kept / seconds), "unit": "events/s"}


def _dispatch(app) -> dict:  # noqa: ANN001
    """Batch, sign and POST every kept event to the local receiver."""
    from webhooks import dispatch
    from webhooks.models import Batch, Event

    events = Event.objects.count()
    begun = time.perf_counter()
    posts = dispatch.run_due()
    seconds = time.perf_counter() - begun
    delivered = Batch.objects.filter(status="delivered").count()
    return {
        "bench": "dispatch",
        "value": round(events / seconds),
        "unit": "events/s",
        "posts": posts,
        "delivered": delivered,
        "posts_per_second": round(posts / seconds, 1),
    }


def _reset(app) -> None:  # noqa: ANN001
    from django.db import connection

    from campaigns.models import Notification
    from webhooks.models import Endpoint

    Notification.objects.filter(app=app).delete()
    Endpoint.objects.filter(app=app).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE campaigns_delivery")


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _load() -> list[float]:
    return [round(load, 2) for load in os.getloadavg()]


def _create_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            db.execute(f'CREATE DATABASE "{name}"')


def _configure(sink: Sink) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "pushcenter.settings",
            "DEBUG": "0",
            "PUSHCENTER_SECRET_KEY": "bench-webhooks-secret-key-not-for-production-use",
            "PUSHCENTER_ENCRYPTION_KEYS": ENCRYPTION_KEY,
            "DATABASE_URL": f"{SERVER}/{DATABASE}",
            "PUSHCENTER_CACHE_URL": os.environ.get(
                "PUSHCENTER_CACHE_URL", "redis://127.0.0.1:6379/9"
            ),
            "PUSHCENTER_APNS_URL": sink.origin,
            "PUSHCENTER_CA_BUNDLE": sink.ca_file,
            "PUSHCENTER_WEBHOOKS_ALLOW_LOOPBACK": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


def _app():  # noqa: ANN202
    from campaigns.models import SendingRules
    from devices import sample_credentials
    from devices.models import ApnsCredential, MobileApp, Organization

    organization, _ = Organization.objects.get_or_create(
        name="bench", defaults={"display_name": "Bench"}
    )
    app, _ = MobileApp.objects.get_or_create(
        organization=organization, name="webhooks", defaults={"display_name": "Webhooks bench"}
    )
    if not hasattr(app, "apns_credential"):
        credential = ApnsCredential(
            app=app, key_id="BENCHKEY01", team_id="BENCHTEAM1", bundle_id="com.contoso.bench"
        )
        credential.store_secret({"signing_key": sample_credentials.p8_signing_key().decode()})
        credential.save()
    # Every round sends to the same devices: no frequency cap.
    SendingRules.objects.update_or_create(app=app, defaults={"min_interval_minutes": 0})
    return MobileApp.objects.get(pk=app.pk)


def _seed(app, size: int) -> None:  # noqa: ANN001
    from django.db import connection

    from devices.models import Device

    if Device.objects.filter(app=app).count() == size:
        return
    Device.objects.filter(app=app).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO devices_device (app_id, install_id, platform, push_token, user_id, "
            "locale, language, time_zone, app_version, app_version_key, carrier_country, "
            "device_os_version, device_os_version_key, device_model, oem_name, screen_size, "
            "custom_properties, push_enabled, categories, status, first_seen, last_seen) "
            "SELECT %(app)s, md5('webhooks-' || n)::uuid, 'ios', lpad(to_hex(n), 64, '0'), "
            "'user-' || n, 'en-US', 'en', 'UTC', '', '', 'US', '', '', '', '', '', "
            "'{}'::jsonb, true, '[]'::jsonb, 'active', now(), now() "
            "FROM generate_series(1, %(size)s) AS n",
            {"app": app.pk, "size": size},
        )


if __name__ == "__main__":
    main()

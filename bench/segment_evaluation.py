"""Benchmark segments: count and first page of typical definitions over 1,000,000 devices.

The devices are generated inside PostgreSQL (INSERT … SELECT over generate_series) once, and kept
between runs; each definition is compiled by the audience language and timed as the dashboard and
sending run it. Prints one JSON object per line, with the compiled SQL beside each figure.
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

DEFINITIONS = {
    "country_and_version": "carrierCountry eq 'US' and appVersion ge '2.1'",
    "custom_properties": "dog-lover eq true and dog-breed eq 'Golden Retriever'",
    "recent_or_language": "lastSeen gt now-30d or "
    "(language in ('fr', 'de') and platform eq 'android')",
    "version_range_not_country": "appVersion ge '2.9' and appVersion lt '3.0' "
    "and not carrierCountry in ('US', 'CA')",
    "number_and_category": "score ge 50 and categories contains 'offers' and pushEnabled eq true",
}
# The same filters written by hand, as a baseline: what the compiled query is measured against.
HAND_WRITTEN = {
    "country_and_version": "carrier_country = 'US' AND app_version_key >= '000002.000001'",
    "custom_properties": 'custom_properties @> \'{"dog-lover": true, '
    '"dog-breed": "Golden Retriever"}\'',
    "recent_or_language": "last_seen > now() - interval '30 days' OR "
    "(language IN ('fr', 'de') AND platform = 'android')",
    "version_range_not_country": "app_version_key >= '000002.000009' "
    "AND app_version_key < '000003' AND carrier_country NOT IN ('US', 'CA')",
    "number_and_category": "(custom_properties->>'score')::numeric >= 50 "
    "AND categories @> '[\"offers\"]' AND push_enabled",
}
CUSTOM_TYPES = {"dog-lover": "boolean", "dog-breed": "string", "score": "number"}
VERSIONS = ["1.9.0", "2.0.0", "2.1.0", "2.9.3", "2.10.1", "3.0"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    prepare_database()
    import django

    django.setup()
    app = seeded_app(args.devices)
    for name, definition in DEFINITIONS.items():
        print(json.dumps(measure(app, name, definition, args.repeat)))


def prepare_database() -> None:
    import subprocess

    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, check=True
    )


def seeded_app(count: int):
    from devices.models import MobileApp, Organization

    org, _ = Organization.objects.get_or_create(name="bench", defaults={"display_name": "Bench"})
    app, _ = MobileApp.objects.get_or_create(
        organization=org, name="segments", defaults={"display_name": "Segments bench"}
    )
    if app.devices.count() != count:
        generate_devices(app, count)
    MobileApp.objects.filter(pk=app.pk).update(custom_property_types=CUSTOM_TYPES)
    app.refresh_from_db()
    return app


def generate_devices(app, count: int) -> None:
    from django.db import connection

    from devices.versions import version_key

    app.devices.all().delete()
    keys = [version_key(v) for v in VERSIONS]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            GENERATE, {"app": app.pk, "count": count, "versions": VERSIONS, "keys": keys}
        )
        cursor.execute("ANALYZE devices_device")
    print(
        json.dumps(
            {
                "bench": "segments_generate_devices",
                "value": round(time.perf_counter() - started, 1),
                "unit": "s",
                "devices": count,
            }
        )
    )


GENERATE = """
INSERT INTO devices_device (app_id, install_id, platform, push_token, user_id, locale, language,
    time_zone, app_version, app_version_key, carrier_country, device_os_version,
    device_os_version_key, os_api_level, device_model, oem_name, screen_size, custom_properties,
    push_enabled, categories, status, first_seen, last_seen)
SELECT %(app)s, gen_random_uuid(), (ARRAY['ios','android','windows'])[1 + n %% 3],
    md5(n::text) || md5((n + 1)::text), 'user-' || (n %% 400000), l.locale,
    split_part(l.locale, '-', 1),
    'Europe/Paris', (%(versions)s::text[])[1 + v], (%(keys)s::text[])[1 + v],
    (ARRAY['US','CA','FR','DE','GB','JP','BR','IN'])[1 + (n * 7) %% 8], '17.2', '000017.000002',
    30 + n %% 5, 'Model', 'OEM', '1170x2532',
    jsonb_build_object('dog-lover', n %% 3 = 0,
                       'dog-breed', (ARRAY['Golden Retriever','Beagle','Poodle'])[1 + n %% 3],
                       'score', n %% 100),
    n %% 10 <> 0, CASE WHEN n %% 2 = 0 THEN '["offers", "news"]'::jsonb ELSE '["news"]'::jsonb END,
    'active', now() - interval '200 days', now() - (n %% 90) * interval '1 day'
FROM generate_series(1, %(count)s) AS n,
    LATERAL (SELECT (ARRAY['en-US','en-GB','fr-FR','de-DE','ja-JP'])[1 + (n * 3) %% 5] AS locale) l,
    LATERAL (SELECT (n * 13) %% 6 AS v) version
"""


def measure(app, name: str, definition: str, repeat: int) -> dict:
    from segments.services import matching

    devices = matching(app, definition, {})
    counts, pages, baselines = [], [], []
    for _ in range(repeat):
        counts.append(timed(devices.count))
        pages.append(timed(lambda: list(devices.order_by("id")[:100].values_list("pk", flat=True))))
        baselines.append(timed(lambda: hand_written_count(app, name)))
    return {
        "bench": f"segment_count_{name}",
        "value": round(statistics.median(counts), 1),
        "unit": "ms",
        "first_page_ms": round(statistics.median(pages), 1),
        "hand_written_sql_ms": round(statistics.median(baselines), 1),
        "matching": devices.count(),
        "definition": definition,
        "compiled_where": str(devices.query).split(" WHERE ", 1)[1],
        "target_ms": 250,
    }


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) * 1000


def hand_written_count(app, name: str) -> int:
    from django.db import connection

    sql = (
        "SELECT count(*) FROM devices_device WHERE app_id = %s AND status = 'active' "  # noqa: S608
        f"AND ({HAND_WRITTEN[name]})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [app.pk])
        return cursor.fetchone()[0]


if __name__ == "__main__":
    main()

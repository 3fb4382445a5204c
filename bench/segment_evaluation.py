"""Benchmark segments: count and first page of typical definitions over 1,000,000 devices.

The devices, and 10,000,000 events of theirs over the last 180 days, are generated inside
PostgreSQL (INSERT … SELECT over generate_series) once, and kept between runs; each definition is
compiled by the audience language and timed as the dashboard and sending run it. Prints one JSON
object per line, with the compiled SQL beside each figure.
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
    "purchased_twice_in_30_days": "did('purchase', within 30d, count ge 2)",
    "no_app_open_in_7_days": "not did('app_open', within 7d)",
    "purchase_over_100_eur_in_30_days": "did('purchase', within 30d, "
    "where amount ge 100 and currency eq 'EUR')",
    "purchase_in_30_days_in_the_us": "did('purchase', within 30d) and carrierCountry eq 'US'",
}
_RECENT_EVENTS = (
    "SELECT device_id FROM events_event e WHERE e.app_id = devices_device.app_id "
    "AND e.device_id = devices_device.id AND e.name = '{name}' "
    "AND e.occurred_at >= now() - interval '{days} days' AND e.occurred_at <= now(){where}"
)
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
    "purchased_twice_in_30_days": "id IN (SELECT device_id FROM events_event WHERE app_id = %s "
    "AND name = 'purchase' AND occurred_at >= now() - interval '30 days' "
    "AND occurred_at <= now() GROUP BY device_id HAVING count(*) >= 2)",
    "no_app_open_in_7_days": "NOT EXISTS ("
    + _RECENT_EVENTS.format(name="app_open", days=7, where="")
    + ")",
    "purchase_over_100_eur_in_30_days": "EXISTS ("
    + _RECENT_EVENTS.format(
        name="purchase",
        days=30,
        where=' AND e.properties @> \'{"currency": "EUR"}\' '
        "AND (e.properties->>'amount')::numeric >= 100",
    )
    + ")",
    "purchase_in_30_days_in_the_us": "carrier_country = 'US' AND EXISTS ("
    + _RECENT_EVENTS.format(name="purchase", days=30, where="")
    + ")",
}
CUSTOM_TYPES = {"dog-lover": "boolean", "dog-breed": "string", "score": "number"}
VERSIONS = ["1.9.0", "2.0.0", "2.1.0", "2.9.3", "2.10.1", "3.0"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--regenerate", action="store_true", help="write the events again")
    parser.add_argument("--explain", action="store_true", help="print each count's plan")
    args = parser.parse_args()
    prepare_database()
    import django

    django.setup()
    app = seeded_app(args.devices, args.events, args.regenerate)
    for name, definition in DEFINITIONS.items():
        print(json.dumps(measure(app, name, definition, args.repeat)))
        if args.explain:
            print(explained(app, definition), file=sys.stderr)


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


def seeded_app(count: int, events: int | None = None, regenerate: bool = False):
    """The bench app with `count` devices and, unless None, `events` events of theirs."""
    from devices.models import MobileApp, Organization

    org, _ = Organization.objects.get_or_create(name="bench", defaults={"display_name": "Bench"})
    app, _ = MobileApp.objects.get_or_create(
        organization=org, name="segments", defaults={"display_name": "Segments bench"}
    )
    if app.devices.count() != count:
        generate_devices(app, count)
    if events is not None and (regenerate or event_count(app) != events):
        generate_events(app, events)
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
        # VACUUM as well as ANALYZE: autovacuum does the same after a bulk insert (PostgreSQL
        # 13's autovacuum_vacuum_insert_threshold), marking the pages all-visible for index-only
        # scans; timing a table it has not reached yet would measure the moment, not the plan.
        cursor.execute("VACUUM (ANALYZE) devices_device")
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


def event_count(app) -> int:
    from events.models import Event

    return Event.objects.filter(app=app).count()


def generate_events(app, count: int) -> None:
    """Generate the events in SQL: each lands on a random device of the app, at a random moment
    of the last 180 days; half are app opens, one in twelve a purchase with an amount.

    They are written in the order they happened, as the Events API writes them: a table of
    events lies on disk in roughly time order, so a window of the last 30 days is its last
    pages, not a sixth of every page.
    """
    from django.db import connection

    from events.models import Event

    Event.objects.filter(app=app).delete()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM devices_device WHERE app_id = %s", [app.pk])
        first, last = cursor.fetchone()
        cursor.execute("SELECT setseed(0.5)")
        cursor.execute(
            GENERATE_EVENTS, {"app": app.pk, "count": count, "first": first, "last": last}
        )
        # VACUUM too: it marks the pages all-visible, which an index-only scan needs (autovacuum
        # does the same after a large insert, in its own time).
        cursor.execute("VACUUM (ANALYZE) events_event")
    print(
        json.dumps(
            {
                "bench": "segments_generate_events",
                "value": round(time.perf_counter() - started, 1),
                "unit": "s",
                "events": count,
            }
        )
    )


# The devices' ids run from first to last with no other app's between (one INSERT made them);
# a device not of the app would be left out by the app_id in every query anyway.
GENERATE_EVENTS = """
INSERT INTO events_event (app_id, device_id, name, properties, source, occurred_at)
SELECT %(app)s, e.device,
    CASE WHEN e.r < 0.50 THEN 'app_open' WHEN e.r < 0.75 THEN 'view_item'
         WHEN e.r < 0.87 THEN 'add_to_cart' WHEN e.r < 0.95 THEN 'purchase' ELSE 'share' END,
    CASE WHEN e.r >= 0.87 AND e.r < 0.95 THEN jsonb_build_object(
        'amount', 1 + (e.n * 37) %% 200, 'currency', (ARRAY['EUR','USD','GBP'])[1 + e.n %% 3])
    ELSE jsonb_build_object('screen', 'home') END,
    'api', e.at
FROM (
    SELECT n, %(first)s + floor(random() * (%(last)s - %(first)s + 1))::bigint AS device,
        random() AS r, now() - random() * interval '180 days' AS at
    FROM generate_series(1, %(count)s) AS n
) AS e
ORDER BY e.at
"""


def explained(app, definition: str) -> str:
    """EXPLAIN ANALYZE the count of a definition, as the figures above were taken."""
    from django.db import connection

    from segments.services import matching

    sql, params = matching(app, definition, {}).values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM ({sql}) AS m", params)
        return "\n".join(row[0] for row in cursor.fetchall())


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
        "load_1m": round(os.getloadavg()[0], 2),
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
        cursor.execute(sql, [app.pk] * sql.count("%s"))
        return cursor.fetchone()[0]


if __name__ == "__main__":
    main()

"""Benchmark one broadcast end to end: a notification to N devices, sent by real Celery workers.

PostgreSQL (a database of its own, ``bench_delivery``), Redis as the broker (database 7), two
Celery worker processes started as ``manage.py serve`` starts them (prefork, concurrency 2),
and the providers pointed at the nginx sink of bench/nginx_sink.py (APNs, FCM, WNS and the
FCM/WNS token endpoints answer 200 at once). Devices (40% iOS, 40% Android, 20% Windows) are
seeded with one INSERT … SELECT generate_series per app and reused by later runs.

The send starts as the product starts it: a Notification saved as scheduled now through
``campaigns.services.save(…, schedule=True)``, which queues ``start_send``; the workers fan out,
claim, render, send and record. The clock starts just before that save. Reported per size:

- fan-out: until the notification's deliveries are committed (the start's transaction);
- last status: until the last delivery's status was written (max ``updated_at``);
- deliveries/s: deliveries / last status;
- worker CPU: seconds the workers spent from the moment they were ready (their start-up left
  out) to the end of the send, and that per delivery, in µs;
- PostgreSQL CPU: seconds its processes spent in the same span: the bench database's
  backends and the server's own (checkpointer, WAL writer, autovacuum), and that per delivery;
- machine busy: core-seconds every process on the machine spent in the same span (PostgreSQL,
  Redis and the sink included), against the cores × seconds there were: the ceiling;
- VmHWM of each worker process (the main process and its prefork children).

Prints a table, then one JSON object per size. ``--devices 100000`` for a quick run.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from nginx_sink import Sink, nginx_sink  # noqa: E402

DATABASE = "bench_delivery"
SERVER = "postgres://postgres@127.0.0.1:5432"
BROKER = "redis://127.0.0.1:6379/7"
# The bench database's own keys: its credentials are encrypted with this and reused between runs.
ENCRYPTION_KEY = base64.urlsafe_b64encode(b"push-center-bench-delivery-key!!").decode()
SIZES = (100_000, 1_000_000, 2_000_000)  # 2,000,000 shows the slope


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, action="append", help="repeatable; default: SIZES")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (serve: 2)")
    parser.add_argument("--concurrency", type=int, default=2, help="per worker (serve: 2)")
    parser.add_argument("--pool", default="prefork")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per send, at most")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--broker", default=BROKER)
    args = parser.parse_args()
    sizes = args.devices or list(SIZES)
    _create_database(args.database)
    rows = []
    with nginx_sink(workers=1) as sink:
        _configure(sink, args)
        _migrate()
        for size in sizes:
            rows.append(run(size, sink, args))
    _print_table(rows)
    for row in rows:
        print(json.dumps(row), flush=True)


def _create_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            db.execute(f'CREATE DATABASE "{name}"')


def _configure(sink: Sink, args: argparse.Namespace) -> None:
    """Set the environment the workers inherit, then set Django up in this process too."""
    origin = sink.localhost_origin  # WNS channel URIs must name a host, not an IP address
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "pushcenter.settings",
            "DEBUG": "0",
            "PUSHCENTER_SECRET_KEY": "bench-delivery-secret-key-not-for-production-use",
            "PUSHCENTER_ENCRYPTION_KEYS": ENCRYPTION_KEY,
            "DATABASE_URL": f"{SERVER}/{args.database}",
            "CELERY_BROKER_URL": args.broker,
            "CELERY_RESULT_BACKEND": args.broker,
            # DEBUG off requires a shared cache; the broker's Redis serves (keys are prefixed).
            "PUSHCENTER_CACHE_URL": os.environ.get("PUSHCENTER_CACHE_URL", args.broker),
            "PUSHCENTER_APNS_URL": origin,
            "PUSHCENTER_FCM_URL": origin,
            "PUSHCENTER_FCM_TOKEN_URL": f"{origin}/token",
            "PUSHCENTER_WNS_TOKEN_URL": origin,
            "PUSHCENTER_WNS_HOSTS": f"localhost:{sink.port}",
            "PUSHCENTER_CA_BUNDLE": sink.ca_file,
            "PUSHCENTER_TRANSLATOR": "offline",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
    )
    import django

    django.setup()


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def run(size: int, sink: Sink, args: argparse.Namespace) -> dict[str, object]:
    """Seed (or reuse) an app of `size` devices, send it one notification, measure."""
    from django.db import connection, transaction

    from campaigns import services
    from campaigns.models import Delivery, Notification, Status

    app = _app(size)
    _seed(app, size, sink)
    # A clean slate: no deliveries of earlier runs (the caps query finds none, as for a
    # first broadcast), statistics fresh for the planner.
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Delivery._meta.db_table} CASCADE")  # and its tries
    Notification.objects.filter(app__name__startswith="bench-").delete()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Delivery._meta.db_table}")
        cursor.execute("VACUUM ANALYZE devices_device")
    _flush_broker(args.broker)
    logs = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    workers = _start_workers(args, logs)
    try:
        _wait_ready(workers, args.workers)
        cpu_at_ready, machine_at_ready, ready_at = _cpu(workers), _machine_busy(), time.time()
        postgres = PostgresMeter(args.database)
        notification = Notification(
            app=app,
            name=f"Bench broadcast to {size:,}",
            platforms=["ios", "android", "windows"],
            title="Half price this weekend",
            body="Every jacket and boot, until Sunday night.",
            sound="default",
            url="https://contoso.example/sale",
            on_click="url",
            custom_data={"campaign": "weekend-sale"},
        )
        started = time.time()
        with transaction.atomic():
            services.save(notification, schedule=True)
        fan_out, done = _wait(notification.pk, started, args.timeout, postgres.read)
        memory = _memory(workers)
        cpu, machine = _cpu(workers) - cpu_at_ready, _machine_busy() - machine_at_ready
        span = time.time() - ready_at
        postgres.read()
    finally:
        _stop(workers)
    counts = dict(
        Delivery.objects.filter(notification_id=notification.pk)
        .values_list("status")
        .annotate(n=_count())
        .values_list("status", "n")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT extract(epoch FROM max(updated_at)), count(*) "  # noqa: S608
            f"FROM {Delivery._meta.db_table} WHERE notification_id = %s",
            [notification.pk],
        )
        last, total = cursor.fetchone()
    stored = Notification.objects.get(pk=notification.pk)
    last_status = float(last) - started if last else None
    # Deliveries with their final status (all of them unless the send timed out).
    finished = total - sum(counts.get(status, 0) for status in ("queued", "claimed", "sending"))
    return {
        "bench": "delivery",
        "devices": size,
        "deliveries": total,
        "finished": finished,
        "statuses": counts,
        "completed": stored.status == Status.COMPLETED and done,
        "deliveries_per_s": round(finished / last_status) if last_status else None,
        "last_status_s": round(last_status, 1) if last_status else None,
        "fan_out_s": round(fan_out, 1) if fan_out else None,
        "workers": args.workers,
        "pool": args.pool,
        "concurrency": args.concurrency,
        "vmhwm_mb": memory,
        "worker_cpu_s": round(cpu, 1),
        "worker_cpu_us_per_delivery": round(cpu * 1e6 / finished) if finished else None,
        "postgres_cpu_s": round(postgres.seconds, 1),
        "postgres_cpu_us_per_delivery": round(postgres.seconds * 1e6 / finished)
        if finished
        else None,
        "machine_busy_core_s": round(machine, 1),
        "machine_core_s": round((os.cpu_count() or 1) * span, 1),
        # Other processes on the machine compete for its cores: the load when the send ended.
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "logs": str(logs),
        "target": {"devices": 1_000_000, "seconds": 120},
    }


def _count():  # noqa: ANN202
    from django.db.models import Count

    return Count("id")


def _app(size: int):  # noqa: ANN202
    """Return the bench app for this size, with a credential for each platform."""
    import json as _json

    from devices import sample_credentials
    from devices.models import ApnsCredential, FcmCredential, MobileApp, Organization, WnsCredential

    organization, _ = Organization.objects.get_or_create(
        name="bench", defaults={"display_name": "Bench"}
    )
    app, _ = MobileApp.objects.get_or_create(
        organization=organization, name=f"bench-{size}", defaults={"display_name": "Bench"}
    )
    if not hasattr(app, "apns_credential"):
        credential = ApnsCredential(
            app=app, key_id="BENCHKEY01", team_id="BENCHTEAM1", bundle_id="com.contoso.bench"
        )
        credential.store_secret({"signing_key": sample_credentials.p8_signing_key().decode()})
        credential.save()
    if not hasattr(app, "fcm_credential"):
        account = sample_credentials.service_account("contoso-bench")
        facts = _json.loads(account)
        credential = FcmCredential(
            app=app, project_id=facts["project_id"], client_email=facts["client_email"]
        )
        credential.store_secret({"service_account": account.decode()})
        credential.save()
    if not hasattr(app, "wns_credential"):
        credential = WnsCredential(
            app=app,
            tenant_id="00000000-0000-4000-8000-000000000001",
            client_id="00000000-0000-4000-8000-000000000002",
            object_id="00000000-0000-4000-8000-000000000003",
            package_family_name="Contoso.Bench_8wekyb3d8bbwe",
        )
        credential.store_secret({"client_secret": "bench-wns-client-secret"})
        credential.save()
    return MobileApp.objects.get(pk=app.pk)


def _seed(app: object, size: int, sink: Sink) -> None:
    """Insert the app's devices in one statement unless they are there; point WNS at the sink."""
    from django.db import connection

    from devices.models import Device
    from devices.versions import version_key

    origin = sink.localhost_origin
    with connection.cursor() as cursor:
        count = Device.objects.filter(app=app).count()
        if count != size:
            Device.objects.filter(app=app).delete()
            begun = time.monotonic()
            cursor.execute(
                "INSERT INTO devices_device (app_id, install_id, platform, push_token, "
                "channel_uri, channel_expires_at, user_id, locale, language, time_zone, "
                "app_version, app_version_key, carrier_country, device_os_version, "
                "device_os_version_key, os_api_level, device_model, oem_name, screen_size, "
                "custom_properties, push_enabled, categories, status, first_seen, last_seen) "
                "SELECT %(app)s, md5(%(app)s || '-' || n)::uuid, "
                "CASE WHEN n %% 5 < 2 THEN 'ios' WHEN n %% 5 < 4 THEN 'android' "
                "ELSE 'windows' END, "
                "CASE WHEN n %% 5 < 2 THEN lpad(to_hex(n), 64, '0') "
                "WHEN n %% 5 < 4 THEN 'bench' || lpad(n::text, 11, '0') || ':APA91b' "
                "|| repeat('x', 140) END, "
                "CASE WHEN n %% 5 = 4 THEN %(origin)s || '/w/?token=AwYAAAD' "
                "|| lpad(to_hex(n), 120, '0') END, "
                "CASE WHEN n %% 5 = 4 THEN now() + interval '30 days' END, "
                "'user-' || n, 'en-US', 'en', "
                "(ARRAY['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Tokyo'])[n %% 4 + 1], "
                "'2.10.1', %(app_key)s, 'US', '17.2', %(os_key)s, 34, 'Model', 'OEM', "
                "'1170x2532', '{}'::jsonb, true, '[]'::jsonb, 'active', now(), now() "
                "FROM generate_series(1, %(size)s) AS n",
                {
                    "app": app.pk,
                    "origin": origin,
                    "size": size,
                    "app_key": version_key("2.10.1"),
                    "os_key": version_key("17.2"),
                },
            )
            print(
                f"seeded {size:,} devices in {time.monotonic() - begun:.1f} s",
                file=sys.stderr,
                flush=True,
            )
        # The sink's port changes each run; the channel URIs follow it.
        cursor.execute(
            "UPDATE devices_device SET channel_uri = %s || substring(channel_uri from '/w/.*$') "
            "WHERE app_id = %s AND platform = 'windows' AND channel_uri NOT LIKE %s",
            [origin, app.pk, f"{origin}/w/%"],
        )


def _flush_broker(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def _start_workers(args: argparse.Namespace, logs: Path) -> list[subprocess.Popen]:
    """Start the workers as `manage.py serve` does (pushcenter.processes.celery)."""
    from pushcenter.processes import celery

    workers = []
    for n in range(1, args.workers + 1):
        command = celery(
            "worker",
            "--hostname",
            f"bench{n}@%h",
            "--concurrency",
            str(args.concurrency),
            "--pool",
            args.pool,
        )
        log = (logs / f"worker{n}.log").open("w")
        workers.append(subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))
    return workers


def _wait_ready(workers: list[subprocess.Popen], count: int) -> None:
    from pushcenter.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(worker.poll() is not None for worker in workers):
            raise SystemExit("a worker exited at start; see its log")
        if len(app.control.ping(timeout=0.5)) >= count:
            return
    raise SystemExit(f"{count} workers did not answer a ping within 60 s")


def _wait(
    notification_id: int, started: float, timeout: float, tick: Callable[[], None]
) -> tuple[float | None, bool]:
    """Return when the fan-out was committed (seconds from start) and whether it completed."""
    from campaigns.models import Notification, Status

    fan_out = None
    while time.time() - started < timeout:
        status = Notification.objects.filter(pk=notification_id).values_list("status", flat=True)[0]
        if fan_out is None and status != Status.SCHEDULED:
            fan_out = time.time() - started
        if status == Status.COMPLETED:
            return fan_out, True
        tick()
        time.sleep(0.1 if fan_out is None else 0.5)
    print(f"timed out after {timeout:.0f} s", file=sys.stderr, flush=True)
    return fan_out, False


def _memory(workers: list[subprocess.Popen]) -> dict[str, float]:
    """Return VmHWM in MB of each worker's main process and of each of its children."""
    peaks = {}
    for n, worker in enumerate(workers, 1):
        peaks[f"worker{n}"] = _vmhwm(worker.pid)
        for child in _children(worker.pid):
            peaks[f"worker{n}/child{child}"] = _vmhwm(child)
    return peaks


def _cpu(workers: list[subprocess.Popen]) -> float:
    """Return the CPU seconds (user + system) the workers and their children used."""
    return sum(
        _process_cpu(pid) for worker in workers for pid in [worker.pid, *_children(worker.pid)]
    )


def _process_cpu(pid: int) -> float:
    """Return the CPU seconds (user + system) one process has used (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# PostgreSQL's own processes, by their titles; a backend's title names its database.
POSTGRES_SERVER_PROCESSES = ("checkpointer", "background writer", "walwriter", "autovacuum")


class PostgresMeter:
    """The CPU seconds PostgreSQL spent for the bench database since the meter was made.

    Read while the send runs: Celery closes a task's connections when the task ends, and an
    ended backend's time can no longer be read. A backend is counted as last read (up to half
    a second short of its end); one that began meanwhile counts whole.
    """

    def __init__(self, database: str) -> None:
        self.database = database
        self.start = self._now()
        self.last: dict[int, float] = dict(self.start)

    def read(self) -> None:
        self.last.update(self._now())

    @property
    def seconds(self) -> float:
        return sum(seconds - self.start.get(pid, 0.0) for pid, seconds in self.last.items())

    def _now(self) -> dict[int, float]:
        found = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                title = (stat.parent / "cmdline").read_bytes().decode(errors="replace")
                if self._works_for_bench(title):
                    found[int(stat.parent.name)] = _process_cpu(int(stat.parent.name))
            except OSError:  # the process ended meanwhile
                continue
        return found

    def _works_for_bench(self, title: str) -> bool:
        if not title.startswith("postgres:"):
            return False
        return f" {self.database} " in title or any(
            name in title for name in POSTGRES_SERVER_PROCESSES
        )


def _machine_busy() -> float:
    """Return the core-seconds the whole machine has spent busy since boot (/proc/stat)."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split()
        found.extend(int(child) for child in children)
    return sorted(found)


def _vmhwm(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _stop(workers: list[subprocess.Popen]) -> None:
    from pushcenter.processes import stop

    stop(workers)


def _print_table(rows: list[dict[str, object]]) -> None:
    print(
        f"{'devices':>10} {'deliveries/s':>13} {'last status s':>14} {'fan-out s':>10} "
        f"{'worker CPU s':>13} {'µs/d':>6} {'done':>5}  statuses",
        flush=True,
    )
    for row in rows:
        print(
            f"{row['devices']:>10,} {row['deliveries_per_s'] or '-':>13} "
            f"{row['last_status_s'] or '-':>14} {row['fan_out_s'] or '-':>10} "
            f"{row['worker_cpu_s']:>13} {row['worker_cpu_us_per_delivery'] or '-':>6} "
            f"{'yes' if row['completed'] else 'no':>5}  {row['statuses']}",
            flush=True,
        )
    for row in rows:
        peaks = ", ".join(f"{name} {mb} MB" for name, mb in row["vmhwm_mb"].items())
        print(f"{row['devices']:>10,} VmHWM: {peaks}", flush=True)


if __name__ == "__main__":
    main()

"""Benchmark the registration API through the real HTTP stack, against a bare ceiling.

gunicorn serves the project on loopback against PostgreSQL; wrk, a second process, sends PUTs
that each register a new install. The same load then goes to a bare Django + DRF view that only
validates and upserts one row with raw SQL, unprepared as Django runs it, and again with the
statement prepared as registration's is. Prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/pushcenter_bench"
SEED = """
import django, json
django.setup()
from devices.models import MobileApp, Organization, TokenKind
from devices.services import issue_api_token
org, _ = Organization.objects.get_or_create(name="bench", defaults={"display_name": "Bench"})
app, _ = MobileApp.objects.get_or_create(
    organization=org, name="registration", defaults={"display_name": "Bench"}
)
# In slices: one delete of more than 65,535 devices would pass PostgreSQL that many parameters.
while ids := list(app.devices.values_list("pk", flat=True)[:10000]):
    app.devices.filter(pk__in=ids).delete()
token = issue_api_token(app, "bench", kind=TokenKind.CLIENT)[1]
print(json.dumps({"pk": app.pk, "app_id": str(app.application_id), "token": token}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=12)
    args = parser.parse_args()
    env = bench_environment()
    prepare_database(env)
    app = json.loads(run([sys.executable, "-c", SEED], env))
    real = measure(
        env, "pushcenter.settings", f"/api/v1/apps/{app['app_id']}/devices/", app["token"], args
    )
    ceiling = measure(env, "bench.ceiling_settings", f"/ceiling/{app['pk']}/", "", args)
    # The same bare view with its statement prepared, as registration's is: like for like.
    prepared = measure(env, "bench.ceiling_settings", f"/ceiling-prepared/{app['pk']}/", "", args)
    runs = {
        "registration_api": real,
        "registration_ceiling": ceiling,
        "registration_ceiling_prepared": prepared,
    }
    for name, result in runs.items():
        print(
            json.dumps(
                {
                    "bench": name,
                    "value": result["rps"],
                    "unit": "requests/s",
                    "p99_ms": result["p99_ms"],
                    "p50_ms": result["p50_ms"],
                    "cpu_us_per_request": result["cpu_us_per_request"],
                    "workers": args.workers,
                    "connections": args.connections,
                    "seconds": args.seconds,
                }
            )
        )
    for name, ceiling_run, target in (
        ("registration_api_vs_ceiling", ceiling, 0.9),
        ("registration_api_vs_ceiling_prepared", prepared, None),
    ):
        ratio = {"bench": name, "value": round(real["rps"] / ceiling_run["rps"], 3)}
        print(json.dumps({**ratio, "unit": "ratio", "target": target}))


def bench_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PUSHCENTER_", "DEBUG"))}
    env.update(
        {
            "DATABASE_URL": os.environ.get("DATABASE_URL", DEFAULT_DATABASE),
            "DEBUG": "0",
            "PUSHCENTER_SECRET_KEY": secrets.token_urlsafe(40),
            "PUSHCENTER_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "PUSHCENTER_API_RATE": "1000000/s",
            # Apps register with their client key, which is limited per key and per address;
            # wrk is one address, so the limits are lifted while the counters are still kept.
            "PUSHCENTER_CLIENT_KEY_RATE": "1000000/s",
            "PUSHCENTER_CLIENT_ADDRESS_RATE": "1000000/s",
            "PUSHCENTER_CACHE_URL": os.environ.get(
                "PUSHCENTER_CACHE_URL", "redis://127.0.0.1:6379/2"
            ),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "pushcenter.settings",
        }
    )
    return env


def prepare_database(env: dict[str, str]) -> None:
    url = env["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], env)


def run(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        sys.exit(f"{' '.join(command[:3])} failed:\n{result.stderr}")
    return result.stdout


def measure(
    env: dict,
    settings_module: str,
    path: str,
    token: str,
    args: argparse.Namespace,
    kind: tuple[str, ...] = ("register",),
) -> dict:
    """Serve the project with gunicorn and load it with wrk sending `kind` requests."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "pushcenter.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": settings_module},
    )
    try:
        wait_for_port(port)
        base = f"http://127.0.0.1:{port}"
        wrk(base, path, token, 2, args, kind)  # warm up workers and connections
        analyze(env["DATABASE_URL"])
        before = cpu_by_program(server.pid)
        result = wrk(base, path, token, args.seconds, args, kind)
        used = cpu_by_program(server.pid)
        requests = result["rps"] * args.seconds
        result["cpu_us_per_request"] = {
            program: round((used[program] - before.get(program, 0)) / requests * 1e6)
            for program in used
        }
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)


def wrk(
    base: str,
    path: str,
    token: str,
    seconds: int,
    args: argparse.Namespace,
    kind: tuple[str, ...],
) -> dict:
    """Run wrk with bench/api_requests.lua; `kind` names the requests, then their arguments."""
    command = [
        "wrk",
        "-t2",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(ROOT / "bench" / "api_requests.lua"),
        base,
        "--",
        path,
        token,
        *kind,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in output:
        sys.exit(f"the benchmark got errors from {path}:\n{output}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": latency_ms(output, "50%"),
        "p99_ms": latency_ms(output, "99%"),
    }


def analyze(url: str) -> None:
    """Bring the planner's statistics up to date, as autovacuum does on a running system.

    The seed empties the bench app, so statistics taken then know it with no devices, and the
    planner, expecting one row, may read the app's devices through any index that starts with
    the app (89 ms a registration, seen) instead of (app, push_token).
    """
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("ANALYZE devices_device")


def cpu_by_program(server: int) -> dict[str, float]:
    """CPU seconds used so far by the server's processes and by each program beside it.

    On a saturated machine a wall-clock profile shows a process waiting for the CPU where it
    waits on a socket; CPU per request, summed over every process, is what sets throughput.
    The PostgreSQL backends stay connected for the run (CONN_MAX_AGE), so their time counts.
    """
    tick = os.sysconf("SC_CLK_TCK")
    processes = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # it ended while being read
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        processes[int(stat.parent.name)] = (name, int(fields[1]), int(fields[11]) + int(fields[12]))
    used: dict[str, float] = {"server": 0.0, "postgres": 0.0, "redis-server": 0.0}
    for pid, (name, parent, ticks) in processes.items():
        program = "server" if server in (pid, parent) else name
        if program in used:
            used[program] += ticks / tick
    used["wrk"] = children_cpu()  # each wrk run has ended, and been waited for, when read
    return used


def children_cpu() -> float:
    """CPU seconds of this process's children that have ended (each wrk run)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def latency_ms(output: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", output).groups()
    return round(float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"the server on port {port} did not start")


if __name__ == "__main__":
    main()

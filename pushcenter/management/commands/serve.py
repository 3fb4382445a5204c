"""Run the production shape on one machine: gunicorn, two Celery workers, a webhooks worker
and one Beat."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pushcenter.env import env_bool, env_str
from pushcenter.processes import celery, supervise
from pushcenter.production import check_production


class Command(BaseCommand):
    help = (
        "Migrate, collect static files and run the web server (gunicorn), two Celery workers, "
        "a worker for webhook posts (queue webhooks) and Celery Beat against DATABASE_URL and "
        "CELERY_BROKER_URL until Ctrl-C, with DEBUG "
        "off unless DEBUG is set. Refuses to start with DEBUG off on development keys or "
        "without PUSHCENTER_CACHE_URL naming Redis. More machines run more workers with "
        "`celery -A pushcenter worker` (`--queues webhooks` for webhook posts); run Beat on one "
        "machine only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--worker-concurrency", type=int, default=2)

    def handle(self, *args: object, **options: object) -> None:
        environment = serving_environment()
        self._prepare(environment)
        commands = [
            [
                sys.executable,
                "-m",
                "gunicorn",
                "pushcenter.wsgi",
                "--bind",
                f"{options['host']}:{options['port']}",
                "--workers",
                str(options["web_workers"]),
            ],
            *(
                celery(
                    "worker",
                    "--hostname",
                    f"worker{n}@%h",
                    "--concurrency",
                    str(options["worker_concurrency"]),
                )
                for n in (1, 2)
            ),
            # Webhook posts only: an endpoint that is slow holds these, never a sending worker.
            celery("worker", "--hostname", "webhooks@%h", "--queues", "webhooks"),
            celery("beat"),
        ]
        processes = [subprocess.Popen(command, env=environment) for command in commands]
        self.stdout.write(f"Serving on http://{options['host']}:{options['port']}/; Ctrl-C stops.")
        supervise(processes, self.stdout, self.stderr)

    def _prepare(self, environment: dict[str, str]) -> None:
        """Migrate and collect static files in the environment the servers will have.

        Run as child processes: this one loaded its settings before DEBUG was decided, and
        with DEBUG off static files need WhiteNoise's manifest.
        """
        for step in (["migrate", "--no-input"], ["collectstatic", "--no-input", "-v", "0"]):
            command = [sys.executable, "-m", "pushcenter", *step]
            if subprocess.run(command, env=environment).returncode != 0:
                raise CommandError(f"`manage.py {' '.join(step)}` failed; nothing was started")


def serving_environment() -> dict[str, str]:
    """Return the servers' environment: DEBUG off unless set, and refuse an insecure start."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE}
    environment.setdefault("DEBUG", "0")
    if not env_bool("DEBUG", False):
        try:
            check_production(
                settings.SECRET_KEY,
                settings.ENCRYPTION_KEYS,
                env_str("PUSHCENTER_CACHE_URL", ""),
            )
        except ImproperlyConfigured as error:
            raise CommandError(
                f"Refusing to serve with DEBUG off: {error}. Set it in the environment "
                "(see the README's Running in production); `make demo` is the laptop shape."
            ) from None
    return environment

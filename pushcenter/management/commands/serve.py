"""Run the production shape on one machine: gunicorn, two Celery workers and one Beat."""

from __future__ import annotations

import subprocess
import sys

from django.core.management.base import BaseCommand, CommandParser

from pushcenter.processes import celery, supervise


class Command(BaseCommand):
    help = (
        "Run the web server (gunicorn), two Celery workers and Celery Beat against "
        "DATABASE_URL and CELERY_BROKER_URL until Ctrl-C. More machines run more workers "
        "with `celery -A pushcenter worker`; run Beat on one machine only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--worker-concurrency", type=int, default=2)

    def handle(self, *args: object, **options: object) -> None:
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
            celery("beat"),
        ]
        processes = [subprocess.Popen(command) for command in commands]
        self.stdout.write(f"Serving on http://{options['host']}:{options['port']}/; Ctrl-C stops.")
        supervise(processes, self.stdout, self.stderr)

"""Run the whole product on a laptop: web server, worker with Beat, sandbox gateways, demo data."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from devices.sandbox.certificates import ensure_certificates
from pushcenter.demo import seed
from pushcenter.management.commands.seed_demo import describe
from pushcenter.processes import celery, supervise


class Command(BaseCommand):
    help = (
        "Migrate, seed the demo and run the web server, a worker with Beat and the sandbox "
        "gateways (providers pointed at them with PUSHCENTER_SANDBOX=1) until Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: object, port: int, host: str, **options: object) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        url = f"http://{host}:{port}/"
        facts = seed(url)
        processes = self._start(host, port)
        self.stdout.write(describe(facts))
        self.stdout.write("\nPress Ctrl-C to stop.")
        supervise(processes, self.stdout, self.stderr)

    def _start(self, host: str, port: int) -> list[subprocess.Popen]:
        python = sys.executable
        # Made here, not only by the gateways, so the CA exists before anyone sends.
        ensure_certificates(settings.SANDBOX_DIR)
        environment = {**os.environ}
        environment.setdefault("PUSHCENTER_SANDBOX", "1")
        # The snippets on the apps' pages name the server the demo runs on.
        environment.setdefault("PUSHCENTER_PUBLIC_URL", f"http://{host}:{port}")
        # `-m pushcenter`, not manage.py: the same from a checkout and from an installed wheel.
        # The gateways take their ports from the settings (PUSHCENTER_SANDBOX_PORTS), as do
        # the providers' URLs in the web server and the worker.
        commands = [
            [python, "-m", "pushcenter", "sandbox_gateways"],
            [python, "-m", "pushcenter", "runserver", f"{host}:{port}", "--noreload"],
            celery("worker", "--beat", "--concurrency", "2", "--queues", "celery,webhooks"),
        ]
        return [subprocess.Popen(command, env=environment) for command in commands]

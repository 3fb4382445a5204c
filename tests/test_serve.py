"""`make serve`: gunicorn, two workers and Beat run together and stop together on Ctrl-C, with
DEBUG off unless it is set."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import TextIO

import httpx
from cryptography.fernet import Fernet

from tests.test_demo import ROOT, free_port, laptop_environment
from tests.waiting import wait_for


def production_environment(var_dir) -> dict[str, str]:
    """A fresh clone's environment with the keys and the shared cache serving requires."""
    return {
        **laptop_environment(var_dir),
        "PUSHCENTER_SECRET_KEY": "serve-test-" + "x" * 40,
        "PUSHCENTER_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        # Named, not used: nothing in this test reaches the cache.
        "PUSHCENTER_CACHE_URL": "redis://127.0.0.1:6379/1",
    }


# What gunicorn, each of the two workers and Beat print once they have started.
STARTED = ("Booting worker", "worker1@", "worker2@", "beat: Starting")


class Output:
    """A process's output, read by a thread as it comes, so a test can wait for a line."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self.reader.start()

    def _read(self, stream: TextIO) -> None:
        for line in stream:
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)


def login_page(url: str, process: subprocess.Popen) -> httpx.Response | None:
    """The login page once serve answers it; None while it is still starting."""
    assert process.poll() is None, "serve stopped early"
    try:
        response = httpx.get(f"{url}login/", timeout=5)
    except httpx.TransportError:
        return None
    return response if response.status_code == 200 else None


def test_serve_runs_the_web_server_two_workers_and_beat_until_ctrl_c(tmp_path):
    env = production_environment(tmp_path)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(process)
    url = f"http://127.0.0.1:{port}/"
    try:
        page = wait_for(
            lambda: login_page(url, process), 90, lambda: f"serve answers\n{output.text()}"
        )
        wait_for(
            lambda: all(line in output.text() for line in STARTED),
            90,
            lambda: f"the web server, both workers and Beat start\n{output.text()}",
        )
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
        output.reader.join(timeout=10)
    assert process.returncode == 0, output.text()
    # DEBUG was not set, so it is off: secure cookies, and static files from the manifest that
    # serve collected.
    assert "secure" in page.headers["set-cookie"].lower()
    assert "Content-Security-Policy" in page.headers
    assert (tmp_path / "static" / "staticfiles.json").exists()

"""`make serve`: gunicorn, two workers and Beat run together and stop together on Ctrl-C, with
DEBUG off unless it is set."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
from cryptography.fernet import Fernet

from tests.test_demo import ROOT, free_port, laptop_environment


def production_environment(var_dir) -> dict[str, str]:
    """A fresh clone's environment with the keys and the shared cache serving requires."""
    return {
        **laptop_environment(var_dir),
        "PUSHCENTER_SECRET_KEY": "serve-test-" + "x" * 40,
        "PUSHCENTER_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        # Named, not used: nothing in this test reaches the cache.
        "PUSHCENTER_CACHE_URL": "redis://127.0.0.1:6379/1",
    }


def wait_for_login_page(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, "serve stopped early"
        try:
            if httpx.get(f"{url}login/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError("serve did not answer within 90 s")


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
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_login_page(url, process)
        login_page = httpx.get(f"{url}login/", timeout=5)
        time.sleep(5)  # let the workers and Beat say they started
    finally:
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert "Booting worker" in output  # gunicorn
    assert "worker1@" in output and "worker2@" in output
    assert "beat: Starting" in output
    assert process.returncode == 0
    # DEBUG was not set, so it is off: secure cookies, and static files from the manifest that
    # serve collected.
    assert "secure" in login_page.headers["set-cookie"].lower()
    assert "Content-Security-Policy" in login_page.headers
    assert (tmp_path / "static" / "staticfiles.json").exists()

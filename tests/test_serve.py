"""`make serve`: gunicorn, two workers and Beat run together and stop together on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from tests.test_demo import ROOT, free_port, laptop_environment


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
    env = laptop_environment(tmp_path)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"], cwd=ROOT, env=env, check=True
    )
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
        time.sleep(5)  # let the workers and Beat say they started
    finally:
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert "Booting worker" in output  # gunicorn
    assert "worker1@" in output and "worker2@" in output
    assert "beat: Starting" in output
    assert process.returncode == 0

"""`make demo`: seeds idempotently, writes var/demo.json, serves the dashboard, stops on Ctrl-C.

The demo here runs on ports of its own, the sandbox gateways' included, so it runs beside a
`make demo` (or another checkout's tests) on the default ports.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.contrib.auth import authenticate
from django.test import override_settings

from devices.models import ApiToken, MobileApp
from devices.services import authenticate_token
from pushcenter.demo import seed
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def var_dir(tmp_path):
    with override_settings(VAR_DIR=tmp_path):
        yield tmp_path


def test_seeding_twice_keeps_logins_and_tokens(db, var_dir):
    first = seed("http://127.0.0.1:8000/")
    second = seed("http://127.0.0.1:8000/")
    assert first == second
    assert json.loads((var_dir / "demo.json").read_text()) == second
    assert MobileApp.objects.count() == 2 and ApiToken.objects.count() == 4


def test_the_demo_file_names_a_login_per_role_and_a_working_token_per_app(db, var_dir):
    facts = seed("http://127.0.0.1:8000/")
    roles = {user["role"] for user in facts["users"]}
    assert roles == {"superuser", "App administrator", "Marketer", "Developer"}
    for user in facts["users"]:
        assert authenticate(username=user["username"], password=user["password"]) is not None
    platforms = {(a["owner_name"], a["app_name"]): a["platforms"] for a in facts["apps"]}
    assert platforms == {
        ("contoso", "retail"): ["ios", "android"],
        ("contoso", "news-windows"): ["windows"],
    }
    for app in facts["apps"]:
        token = authenticate_token(app["api_token"])
        assert str(token.app.application_id) == app["application_id"]
        assert str(token.app.organization.organization_id) == app["organization_id"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_consecutive_ports(count: int) -> int:
    """Return the first of `count` consecutive loopback ports that are all free now."""
    for _ in range(100):
        first = free_port()
        with contextlib.ExitStack() as probes:
            try:
                for port in range(first, first + count):
                    probes.enter_context(socket.socket()).bind(("127.0.0.1", port))
            except OSError:
                continue
            return first
    raise AssertionError(f"found no {count} consecutive free ports")


def laptop_environment(var_dir: Path) -> dict[str, str]:
    """The environment of a fresh clone: none of our variables, everything under var_dir."""
    ours = ("PUSHCENTER_", "DEBUG", "DATABASE_URL", "CELERY_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    return {**env, "PUSHCENTER_VAR_DIR": str(var_dir)}


def wait_for_demo(demo_file: Path, process: subprocess.Popen) -> dict:
    def answering() -> dict | None:
        assert process.poll() is None, "the demo stopped early"
        if not demo_file.exists():
            return None
        facts = json.loads(demo_file.read_text())
        try:
            answer = httpx.get(f"{facts['url']}login/", timeout=2)
        except httpx.TransportError:
            return None
        return facts if answer.status_code == 200 else None

    return wait_for(answering, 120, "the demo answering its login page", every=0.5)


def sandbox_gateways_answer(first_port: int, ca: Path) -> bool:
    """Tell whether APNs, FCM and WNS each complete a TLS handshake with the demo's CA."""
    context = ssl.create_default_context(cafile=ca)
    context.set_alpn_protocols(["h2", "http/1.1"])
    try:
        for port in range(first_port, first_port + 3):
            with (
                socket.create_connection(("127.0.0.1", port), timeout=2) as raw,
                context.wrap_socket(raw, server_hostname="localhost"),
            ):
                pass
    except OSError:
        return False
    return True


def wait_for_gateways(first_port: int, ca: Path, process: subprocess.Popen) -> None:
    def answering() -> bool:
        assert process.poll() is None, "the demo stopped early"
        return ca.exists() and sandbox_gateways_answer(first_port, ca)

    wait_for(answering, 60, f"the sandbox gateways answering on {first_port}-{first_port + 2}")


def test_the_demo_serves_the_dashboard_and_api_and_stops_on_ctrl_c(tmp_path):
    # The web server's port and the three gateways', one block so none is another's.
    port = free_consecutive_ports(4)
    sandbox_ports = port + 1
    process = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--port", str(port)],
        cwd=ROOT,
        env={**laptop_environment(tmp_path), "PUSHCENTER_SANDBOX_PORTS": str(sandbox_ports)},
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        facts = wait_for_demo(tmp_path / "demo.json", process)
        assert facts["url"] == f"http://127.0.0.1:{port}/"
        app = facts["apps"][0]
        response = httpx.get(
            f"{facts['url']}api/v1/apps/{app['application_id']}",
            headers={"X-API-Token": app["api_token"]},
            timeout=10,
        )
        assert response.status_code == 200 and response.json()["app_name"] == app["app_name"]
        # The gateways listen where PUSHCENTER_SANDBOX_PORTS says, not on 9441-9443.
        wait_for_gateways(sandbox_ports, tmp_path / "sandbox" / "ca.pem", process)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert "Press Ctrl-C to stop." in output
    assert app["api_token"] in output
    with pytest.raises(httpx.TransportError):
        httpx.get(facts["url"], timeout=2)

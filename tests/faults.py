"""Real processes and the faults done to them, for tests/test_delivery_reliability.py.

- `Processes`: Celery workers and Beat of this project as child processes, each logging to a
  file; `kill9` one, `start` it again, `stop_all` at the end (terminate, then kill).
- `RedisServer`: a private, non-persistent redis-server on a free port; `stop` and `start` it
  again on the same port.
- `TcpProxy`: a thread forwarding a local port to a server (PostgreSQL); `refuse()` closes
  every open connection and every new one until `accept()`.
- `Gateways`: a set of sandbox gateways (devices/sandbox) in a thread of this
  process, on free ports with their own CA and received.jsonl, that other processes reach
  over sockets; `environment()` names them for a worker.
- `shared_database_url()`: the test database as a URL another process can open (on SQLite the
  in-memory test database is copied to a file and this process's connection moved onto it).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from celery import Celery
from django.db import connections

from devices.sandbox.directory import CredentialDirectory
from devices.sandbox.server import HOST, GatewayThread, SandboxGateways
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The database ------------------------------------------------------------------------------


@contextlib.contextmanager
def shared_database_url(directory: Path) -> Iterator[str]:
    """Yield a DATABASE_URL naming the database this process uses now.

    PostgreSQL: the test database (test_…) itself. SQLite: the test database is in memory,
    which no other process can open, so it is copied to a file in `directory` and this
    process's connection is moved onto that file until the block ends (the in-memory database
    is kept open meanwhile and given back afterwards). Use with transactional test access.
    """
    connection = connections["default"]
    if connection.vendor != "sqlite":
        yield database_url(connection.settings_dict)
        return
    path = directory / "shared.sqlite3"
    connection.ensure_connection()
    with contextlib.closing(sqlite3.connect(path)) as copy:
        connection.connection.backup(copy)
    in_memory, name = connection.connection, connection.settings_dict["NAME"]
    connection.connection = None
    connection.settings_dict["NAME"] = str(path)
    try:
        yield f"sqlite:///{path}"
    finally:
        connection.close()
        connection.settings_dict["NAME"] = name
        connection.connection = in_memory


def database_url(settings_dict: dict[str, Any], host: str | None = None, port: int = 0) -> str:
    """A postgres:// URL for the database of `settings_dict`, optionally through host:port."""
    user = quote(settings_dict.get("USER") or "")
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{quote(password)}@" if password else f"{user}@" if user else ""
    host = host or settings_dict.get("HOST") or "127.0.0.1"
    port = port or int(settings_dict.get("PORT") or 5432)
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"


# The broker --------------------------------------------------------------------------------


class Broker:
    """A broker private to one test: its URL for the workers and a client to send tasks."""

    def __init__(self, url: str, environment: dict[str, str]) -> None:
        self.url = url
        self.environment = environment  # what a worker needs to use it
        self.app = Celery("reliability-test", broker=url, set_as_current=False)
        self.app.conf.broker_connection_retry_on_startup = True
        if url.startswith("filesystem://"):
            folders = Path(environment["PUSHCENTER_VAR_DIR"]) / "broker"
            for folder in ("queue", "control", "results"):
                (folders / folder).mkdir(parents=True, exist_ok=True)
            self.app.conf.broker_transport_options = {
                "data_folder_in": str(folders / "queue"),
                "data_folder_out": str(folders / "queue"),
                "control_folder": str(folders / "control"),
                "store_processed": False,
            }

    def send(self, task: str, *args: Any, queue: str = "celery") -> None:
        """Publish one message of the task, as Beat or `.delay()` would."""
        # An explicit connection: Celery prefers CELERY_BROKER_URL from the environment to
        # the app's own broker URL.
        with self.app.connection_for_write(self.url) as connection:
            self.app.send_task(
                task, args=list(args), queue=queue, ignore_result=True, connection=connection
            )

    def close(self) -> None:
        self.app.close()


@contextlib.contextmanager
def private_broker(configured_url: str, directory: Path) -> Iterator[Broker]:
    """A broker of the configured kind that no other worker reads, and nothing outlives.

    The filesystem broker gets folders of its own (PUSHCENTER_VAR_DIR); Redis is a
    redis-server of our own (messages a killed worker left unacknowledged die with it).
    """
    if configured_url.startswith(("redis://", "rediss://")):
        server = RedisServer(directory)
        server.start()
        broker = Broker(
            server.url, {"CELERY_BROKER_URL": server.url, "CELERY_RESULT_BACKEND": server.url}
        )
    else:
        server = None
        var_dir = directory / "var"
        broker = Broker(
            "filesystem://",
            {
                "CELERY_BROKER_URL": "filesystem://",
                "CELERY_RESULT_BACKEND": f"file://{var_dir / 'broker' / 'results'}",
                "PUSHCENTER_VAR_DIR": str(var_dir),
            },
        )
    try:
        yield broker
    finally:
        broker.close()
        if server is not None:
            server.stop()


class RedisServer:
    """A redis-server of our own on a free port, keeping nothing on disk."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.directory / f"redis-{self.port}.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_for(self._answers, 10, f"redis-server on port {self.port} answers")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as client:
                client.sendall(b"PING\r\n")
                return client.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop at once (SIGKILL): what it held in memory is lost, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


# Processes ---------------------------------------------------------------------------------


class Processes:
    """Celery workers and Beat of the project, started with one environment."""

    def __init__(self, directory: Path, environment: dict[str, str]) -> None:
        self.directory = directory
        self.environment = environment
        self.running: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def start_worker(self, name: str, **extra_environment: str) -> None:
        """Start a worker (one process, the solo pool) called name@host.

        It consumes the default queue, as every worker does, and a queue named after itself,
        where the test can put a message for it alone.
        """
        self._start(
            name,
            [
                "worker",
                "--queues",
                f"celery,{name}",
                "--pool",
                "solo",
                "--hostname",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            extra_environment,
        )

    def start_beat(self) -> None:
        self._start(
            "beat", ["beat", "--pidfile", str(self.directory / "beat.pid"), "--max-interval", "1"]
        )

    def _start(self, name: str, arguments: list[str], extra: dict[str, str] | None = None) -> None:
        log = self.directory / f"{name}.log"
        self.logs[name] = log
        with open(log, "ab") as output:
            output.write(f"--- start {name} {time.time():.3f}\n".encode())
            output.flush()
            self.running[name] = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "pushcenter", *arguments]
                + ["--loglevel", "INFO"],
                cwd=ROOT,
                env={**os.environ, **self.environment, **(extra or {})},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")

    def wait_ready(self, *names: str, timeout: float = 45) -> None:
        """Wait until each worker says it is ready (consuming its queue)."""
        for name in names:
            wait_for(
                lambda name=name: self._alive(name) and " ready." in self._current_log(name),
                timeout,
                f"worker {name} ready\n{self.tail(name)}",
            )

    def _current_log(self, name: str) -> str:
        return self.log(name).rsplit(f"--- start {name} ", 1)[-1]

    def _alive(self, name: str) -> bool:
        process = self.running[name]
        if process.poll() is not None:
            raise AssertionError(f"{name} ended ({process.returncode})\n{self.tail(name)}")
        return True

    def kill9(self, name: str) -> None:
        """SIGKILL: the process ends at once, in the middle of whatever it does."""
        process = self.running[name]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def tail(self, name: str, lines: int = 40) -> str:
        try:
            return "\n".join(self.log(name).splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def tails(self) -> str:
        return "\n".join(f"===== {name}\n{self.tail(name)}" for name in self.logs)

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.terminate()
        for process in self.running.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


# Sandbox gateways --------------------------------------------------------------------------


class Gateways:
    """Sandbox gateways of our own in a thread, for worker processes to reach over sockets."""

    def __init__(self, *credentials: Any) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="pushcenter-reliability-"))
        self.gateways = SandboxGateways(self.directory, CredentialDirectory(database=False))
        self.gateways.credentials.register(*credentials)
        self.thread = GatewayThread(self.gateways)
        self.thread.start()

    def environment(self) -> dict[str, str]:
        """The settings, as environment variables, that point a worker at these gateways."""
        apns, fcm, wns = (self.gateways.url(name) for name in ("apns", "fcm", "wns"))
        return {
            "PUSHCENTER_SANDBOX": "1",
            "PUSHCENTER_APNS_URL": apns,
            "PUSHCENTER_FCM_URL": fcm,
            "PUSHCENTER_FCM_TOKEN_URL": f"{fcm}/token",
            "PUSHCENTER_WNS_TOKEN_URL": wns,
            "PUSHCENTER_WNS_LEGACY_TOKEN_URL": f"{wns}/accesstoken.srf",
            "PUSHCENTER_WNS_HOSTS": f"notify.windows.com,{HOST}:{self.gateways.ports['wns']}",
            "PUSHCENTER_CA_BUNDLE": str(self.gateways.certificates.ca),
        }

    def received(self, provider: str = "apns") -> list[dict[str, Any]]:
        return [r for r in self.gateways.recorder.read() if r["provider"] == provider]

    def stop(self) -> None:
        self.thread.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


# A TCP proxy that can refuse -------------------------------------------------------------


class TcpProxy:
    """Forward 127.0.0.1:port to a server; `refuse()` drops every connection until `accept()`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.refusing = threading.Event()
        self.closed = threading.Event()
        self.lock = threading.Lock()
        self.pairs: set[tuple[socket.socket, socket.socket]] = set()
        self.refused = 0
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()

    def refuse(self) -> None:
        """Close every open connection now, and each new one as soon as it comes."""
        self.refusing.set()
        with self.lock:
            pairs, self.pairs = self.pairs, set()
        for pair in pairs:
            _close(*pair)

    def accept(self) -> None:
        self.refusing.clear()

    def close(self) -> None:
        self.closed.set()
        self.refuse()
        self.listener.close()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing.is_set():
                self.refused += 1
                _close(client)
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            pair = (client, server)
            with self.lock:
                self.pairs.add(pair)
            threading.Thread(target=self._pump, args=(pair,), daemon=True).start()

    def _pump(self, pair: tuple[socket.socket, socket.socket]) -> None:
        client, server = pair
        peers = {client: server, server: client}
        try:
            while True:
                readable, _, _ = select.select(list(peers), [], [], 0.5)
                if self.refusing.is_set() or self.closed.is_set():
                    break
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    peers[source].sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            with self.lock:
                self.pairs.discard(pair)
            _close(client, server)


def _close(*sockets: socket.socket) -> None:
    for each in sockets:
        with contextlib.suppress(OSError):
            each.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            each.close()

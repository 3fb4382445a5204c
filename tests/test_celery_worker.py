"""A real worker process takes a task from the configured broker and its result comes back.

This runs against whatever CELERY_BROKER_URL names: the embedded filesystem broker by default,
Redis or RabbitMQ when CI sets it. Nothing runs eagerly.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from pushcenter.celery import app
from pushcenter.tasks import health_check

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def worker_queue():
    """Start a worker on a queue of its own, so no other worker can take the test's task."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "pushcenter",
        "worker",
        "--pool",
        "solo",
        "--queues",
        queue,
        "--hostname",
        f"{queue}@%h",
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    worker = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy())
    try:
        yield queue
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_the_task_runs_in_another_process_not_eagerly():
    assert not app.conf.task_always_eager


def test_a_worker_process_runs_the_health_task_from_the_broker(worker_queue):
    result = health_check.apply_async(queue=worker_queue)
    outcome = result.get(timeout=90)
    assert outcome["database"] is True
    assert result.state == "SUCCESS"

"""Run a few server processes together until Ctrl-C, or until one of them ends."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import TextIO


def supervise(processes: list[subprocess.Popen], stdout: TextIO, stderr: TextIO) -> None:
    """Wait on the processes; stop them all on Ctrl-C, SIGTERM or the end of any one."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Ctrl-C stops everything even when started with SIGINT ignored (a background job of a
    # script inherits that, and Python then never raises KeyboardInterrupt).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        failed = [p.args for p in processes if p.poll() not in (None, 0)]
        if failed:
            stderr.write(f"Stopped because a process ended: {failed}\n")
            sys.exit(1)
    except KeyboardInterrupt:
        stdout.write("Stopping…\n")
    finally:
        stop(processes)


def stop(processes: list[subprocess.Popen]) -> None:
    """Ask each process to end, and kill what has not ended within 10 seconds."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def celery(*arguments: str) -> list[str]:
    """Return the command line of a Celery process of the project."""
    return [sys.executable, "-m", "celery", "-A", "pushcenter", *arguments, "--loglevel", "INFO"]

"""Tests wait on conditions, never on the clock.

- `wait_for(condition, timeout, what)`: poll until `condition()` is true and return its value;
  the timeout only bounds a failure, which names `what` was awaited.
- `ManualClock`: a monotonic clock a test moves on by hand, for code that takes its clock as
  a parameter (the providers' token caches), so hours pass without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(
    condition: Callable[[], Any],
    timeout: float,
    what: str | Callable[[], str],
    every: float = 0.1,
) -> Any:
    """Poll `condition` until it returns something true; fail saying `what` after `timeout` s.

    `what` may be a function, called only on failure: it can describe the state then (the
    logs of the processes that were awaited, say).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            described = what() if callable(what) else what
            raise AssertionError(f"not within {timeout:.0f} s: {described}")
        time.sleep(every)


class ManualClock:
    """Seconds that pass only when `advance` says so, starting from the real monotonic clock
    (so what was stamped with the real one before does not look newer than now)."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

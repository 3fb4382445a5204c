"""Failures the gateways inject, chosen by the start of a device token or channel token.

Each gateway declares its own table of `Fault`s (see the package docstring for all three); a
`FaultPlan` finds the fault for a target and counts requests to flaky targets.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """What a target starting with `prefix` gets instead of a plain delivery."""

    prefix: str
    status: int = 200  # the status answered (200: delivered, after `delay`)
    reason: str = ""  # the provider's own reason string
    first_requests: int | None = None  # flaky: fail only this many requests per target
    delay: float = 0.0  # seconds before answering
    retry_after: int | None = None  # a Retry-After header, in seconds


class FaultPlan:
    """Find the fault a target asked for, counting requests where a fault is flaky."""

    def __init__(self, faults: tuple[Fault, ...]) -> None:
        # Longest prefix first, so no prefix hides a longer one that starts the same way.
        self.faults = tuple(sorted(faults, key=lambda f: len(f.prefix), reverse=True))
        self._requests: Counter[str] = Counter()
        self._lock = threading.Lock()

    def fault_for(self, target: str) -> Fault | None:
        """Return the fault to inject for this request to `target`, or None to deliver."""
        lowered = target.lower()
        fault = next((f for f in self.faults if lowered.startswith(f.prefix)), None)
        if fault is None or fault.first_requests is None:
            return fault
        with self._lock:
            self._requests[target] += 1
            seen = self._requests[target]
        return fault if seen <= fault.first_requests else None

    def reset(self) -> None:
        """Start flaky targets over (the test fixture does this between tests)."""
        with self._lock:
            self._requests.clear()

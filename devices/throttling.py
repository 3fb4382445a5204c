"""Rate limits per API token: a fixed-window counter in Django's cache (Redis in production).

A counter costs one cache increment per request, whatever the rate; DRF's own throttles keep a
list of timestamps per client, which grows with the rate and slows every call.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from devices.models import ApiToken


class ApiTokenRateThrottle(BaseThrottle):
    """Allow each token PUSHCENTER_API_RATE requests per window; say when to come back."""

    def __init__(self) -> None:
        self.limit, self.window = settings.API_RATE
        self.wait_seconds: float | None = None

    def allow_request(self, request: Request, view: object) -> bool:
        if not isinstance(request.auth, ApiToken):
            return True
        now = time.time()
        window_index = int(now // self.window)
        key = f"throttle:token:{request.auth.pk}:{window_index}"
        count = _count(caches[settings.API_RATE_CACHE], key, self.window + 1)
        if count <= self.limit:
            return True
        self.wait_seconds = (window_index + 1) * self.window - now
        return False

    def wait(self) -> float | None:
        return math.ceil(self.wait_seconds) if self.wait_seconds is not None else None


def _count(cache: object, key: str, timeout: int) -> int:
    """Increment a window's counter: one round trip, but for a window's first request."""
    try:
        return cache.incr(key)
    except ValueError:  # no counter yet in this window
        if cache.add(key, 1, timeout=timeout):
            return 1
        return cache.incr(key)  # another process started it first

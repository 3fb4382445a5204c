"""Rate limits: fixed-window counters in Django's cache (Redis in production).

A server token is limited per token (PUSHCENTER_API_RATE). A client key ships inside every
copy of an app, so anyone can take it: it is limited per key (PUSHCENTER_CLIENT_KEY_RATE) and
per client address (PUSHCENTER_CLIENT_ADDRESS_RATE), so one address cannot use up the app's
share. Unknown or revoked tokens are counted per address (PUSHCENTER_FAILED_AUTH_RATE).

The counters live in the cache named by API_RATE_CACHE, so with a shared cache every process
and machine counts together. A counter costs one cache increment per request, whatever the
rate; DRF's own throttles keep a list of timestamps per client, which grows with the rate and
slows every call. On Redis a request's counters are counted in one pipelined round trip
(Django's own incr() costs two: EXISTS, then INCRBY).
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from devices.models import ApiToken, TokenKind
from pushcenter.client_address import client_address


class ApiTokenRateThrottle(BaseThrottle):
    """Allow each token its requests per window; a client key also per address; say when."""

    def __init__(self) -> None:
        self.wait_seconds: float | None = None

    def allow_request(self, request: Request, view: object) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        if token.kind != TokenKind.CLIENT:
            windows = [Window(f"token:{token.pk}", settings.API_RATE)]
        else:
            windows = [
                Window(f"token:{token.pk}", settings.CLIENT_KEY_RATE),
                Window(f"address:{client_address(request)}", settings.CLIENT_ADDRESS_RATE),
            ]
        for window, count in zip(windows, count_together(windows), strict=True):
            if count > window.limit:
                self.wait_seconds = window.seconds_left()
                return False
        return True

    def wait(self) -> float | None:
        return math.ceil(self.wait_seconds) if self.wait_seconds is not None else None


class Window:
    """One subject's counter in the current fixed window of a rate."""

    def __init__(self, subject: str, rate: tuple[int, int]) -> None:
        self.limit, self.length = rate
        self.now = time.time()
        self.index = int(self.now // self.length)
        self.key = f"throttle:{subject}:{self.length}:{self.index}"
        self.cache = caches[settings.API_RATE_CACHE]

    def count(self) -> int:
        """Count one more request: one round trip, but for a window's first request."""
        try:
            return self.cache.incr(self.key)
        except ValueError:  # no counter yet in this window
            if self.cache.add(self.key, 1, timeout=self.length + 1):
                return 1
            return self.cache.incr(self.key)  # another process started it first

    def current(self) -> int:
        """Read the counter without counting."""
        return self.cache.get(self.key, 0)

    def seconds_left(self) -> float:
        return (self.index + 1) * self.length - self.now


def count_together(windows: list[Window]) -> list[int]:
    """Count one more request in each window and return the counts.

    On Redis all of them take one pipelined round trip: SET … NX EX starts a window's counter
    with its expiry unless it exists, then INCR counts (https://redis.io/docs/latest/commands/set/,
    /incr/). Both are atomic on the server, so every process and machine counts on one counter.
    """
    cache = caches[settings.API_RATE_CACHE]
    if not isinstance(cache, RedisCache):
        return [window.count() for window in windows]
    # Django's RedisCache offers no pipeline; its _cache hands out the redis-py client it uses,
    # and make_and_validate_key gives the names cache.get() reads.
    pipeline = cache._cache.get_client(write=True).pipeline(transaction=False)
    for window in windows:
        key = cache.make_and_validate_key(window.key)
        pipeline.set(key, 0, ex=window.length + 1, nx=True)
        pipeline.incr(key)
    return pipeline.execute()[1::2]


class FailedAuthentications:
    """The unknown or revoked tokens one address sent in the current window."""

    def __init__(self, address: str) -> None:
        self.window = Window(f"failed-auth:{address}", settings.FAILED_AUTH_RATE)
        self.failures: int | None = None

    def read_with(self, key: str) -> object | None:
        """Read the failures and, in the same round trip, `key` from the default cache.

        Every API call reads both (the failures, then the caller's token), so where the
        counters live in the default cache, as in production, one MGET serves both.
        """
        if settings.API_RATE_CACHE != "default":
            self.failures = self.window.current()
            return cache.get(key)
        values = cache.get_many([self.window.key, key])
        self.failures = values.get(self.window.key, 0)
        return values.get(key)

    def wait(self) -> int | None:
        """Return the seconds to wait when the address used up its failures, else None."""
        failures = self.window.current() if self.failures is None else self.failures
        if failures < self.window.limit:
            return None
        return math.ceil(self.window.seconds_left())

    def note(self) -> None:
        """Count one more failure."""
        self.window.count()

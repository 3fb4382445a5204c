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
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache, RedisSerializer
from redis.commands.core import Script
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
        counted = getattr(request, "counted_for", None)
        if counted is not None and counted.kind == token.kind:
            windows, counts = counted.windows, counted.counts
        else:  # not counted with the token's lookup, or for another kind than the token's
            windows = token_windows(token.kind, token.token_hash, client_address(request))
            counts = count_together(windows)
        for window, count in zip(windows, counts, strict=True):
            if count > window.limit:
                self.wait_seconds = window.seconds_left()
                return False
        return True

    def wait(self) -> float | None:
        return math.ceil(self.wait_seconds) if self.wait_seconds is not None else None


def token_windows(kind: str, token_hash: str, address: str) -> list[Window]:
    """The windows a token's request counts in: the token's, and a client key's address."""
    # The kind is in the name, so that counting a token for a kind it has not (see Counted)
    # never adds to its own kind's counter.
    if kind != TokenKind.CLIENT:
        return [Window(f"token:{kind}:{token_hash}", settings.API_RATE)]
    return [
        Window(f"token:{kind}:{token_hash}", settings.CLIENT_KEY_RATE),
        Window(f"address:{address}", settings.CLIENT_ADDRESS_RATE),
    ]


@dataclass(frozen=True)
class Counted:
    """A request already counted in the windows of a token of this kind."""

    kind: str
    windows: list[Window]
    counts: list[int]


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
    # and make_key gives the names cache.get() reads (without memcached's checks on names,
    # which Redis does not need).
    pipeline = cache._cache.get_client(write=True).pipeline(transaction=False)
    for window in windows:
        key = cache.make_key(window.key)
        pipeline.set(key, 0, ex=window.length + 1, nx=True)
        pipeline.incr(key)
    return pipeline.execute()[1::2]


# Every API call on Redis in one round trip: read the address's failed authentications and the
# cached token; if the token is cached and the address is not refused, count the request in
# its windows (SET … NX EX starts a window with its expiry, INCR counts). A script runs
# atomically (https://redis.io/docs/latest/develop/interactive/programmability/eval-intro/).
# KEYS: the failures, the cached token, then the windows; ARGV: the failure limit, then each
# window's lifetime in seconds.
_READ_AND_COUNT = b"""
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
local token = redis.call('GET', KEYS[2])
local answer = {failures, token or ''}
if token and failures < tonumber(ARGV[1]) then
  for i = 3, #KEYS do
    redis.call('SET', KEYS[i], 0, 'EX', ARGV[i - 1], 'NX')
    answer[i] = redis.call('INCR', KEYS[i])
  end
end
return answer
"""
# Built from bytes, the script needs no client until it runs (EVALSHA, loaded on NOSCRIPT).
_READ_AND_COUNT_SCRIPT = Script(None, _READ_AND_COUNT)
_SERIALIZER = RedisSerializer()


class FailedAuthentications:
    """The unknown or revoked tokens one address sent in the current window."""

    def __init__(self, address: str) -> None:
        self.window = Window(f"failed-auth:{address}", settings.FAILED_AUTH_RATE)
        self.failures: int | None = None

    def read_with(self, key: str, windows: list[Window]) -> tuple[object | None, list[int] | None]:
        """Read the failures and `key` from the default cache; count `windows` if it is there.

        Every API call reads both (the failures, then the caller's token), so where the counters
        live in the default cache, as in production, one round trip serves both: on Redis it
        also counts the request. Returns the value of `key` and the counts, None if not counted.
        """
        if settings.API_RATE_CACHE != "default":
            self.failures = self.window.current()
            return cache.get(key), None
        if not isinstance(caches["default"], RedisCache):
            values = cache.get_many([self.window.key, key])
            self.failures = values.get(self.window.key, 0)
            return values.get(key), None
        return self._read_and_count_on_redis(key, windows)

    def _read_and_count_on_redis(
        self, key: str, windows: list[Window]
    ) -> tuple[object | None, list[int] | None]:
        redis_cache = caches["default"]
        names = [self.window.key, key, *(window.key for window in windows)]
        keys = [redis_cache.make_key(name) for name in names]
        lifetimes = [window.length + 1 for window in windows]
        client = redis_cache._cache.get_client(write=True)
        answer = _READ_AND_COUNT_SCRIPT(keys, [self.window.limit, *lifetimes], client=client)
        self.failures, token, counts = int(answer[0]), answer[1], answer[2:]
        if not token:
            return None, None
        return _SERIALIZER.loads(token), [int(count) for count in counts] or None

    def wait(self) -> int | None:
        """Return the seconds to wait when the address used up its failures, else None."""
        failures = self.window.current() if self.failures is None else self.failures
        if failures < self.window.limit:
            return None
        return math.ceil(self.window.seconds_left())

    def note(self) -> None:
        """Count one more failure."""
        self.window.count()

"""Keep OAuth access tokens (FCM's, WNS's of either flow) for the whole process, one per credential.

A token is kept for the lifetime its issuer states in expires_in, less REFRESH_MARGIN (half
the lifetime when that is shorter), measured on the cache's `clock`: the monotonic clock, which
a test may replace with one it moves on by hand to let hours pass at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

REFRESH_MARGIN = 300  # replace a cached token this many seconds before it expires


class Owner(Protocol):
    """Whatever a token is asked for with; its cache_key says whose token it is."""

    @property
    def cache_key(self) -> tuple[str, ...]: ...


OwnerT = TypeVar("OwnerT", bound=Owner)


@dataclass(frozen=True)
class _AccessToken:
    value: str
    refresh_at: float  # by the cache's clock


class AccessTokenCache(Generic[OwnerT]):
    """One token per owner, thread-safe, asked for with `request(owner) -> (token, lifetime)`.

    Each owner has its own lock, so one slow token request holds up only its own senders, and
    threads that find the token stale together ask once.
    """

    def __init__(
        self,
        request: Callable[[OwnerT], tuple[str, float]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._request = request
        self.clock = clock  # seconds; a wall clock set back or forward does not confuse it
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, ...], _AccessToken] = {}
        self._owner_locks: dict[tuple[str, ...], threading.Lock] = {}

    def get(self, owner: OwnerT) -> str:
        """Return a token with at least REFRESH_MARGIN seconds to live, asking if need be."""
        with self._lock_of(owner):
            cached = self._tokens.get(owner.cache_key)
            if cached is not None and self.clock() < cached.refresh_at:
                return cached.value
            return self._fetch(owner)

    def replace(self, owner: OwnerT, refused: str) -> str:
        """Return a new token in place of a refused one (unless another thread replaced it)."""
        with self._lock_of(owner):
            cached = self._tokens.get(owner.cache_key)
            if cached is not None and cached.value != refused:
                return cached.value
            return self._fetch(owner)

    def renew(self, owner: OwnerT) -> str:
        """Ask for a new token whatever is cached, and keep it."""
        with self._lock_of(owner):
            return self._fetch(owner)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()

    def _lock_of(self, owner: OwnerT) -> threading.Lock:
        with self._lock:
            return self._owner_locks.setdefault(owner.cache_key, threading.Lock())

    def _fetch(self, owner: OwnerT) -> str:
        value, lifetime = self._request(owner)
        margin = min(REFRESH_MARGIN, lifetime / 2)
        token = _AccessToken(value, self.clock() + lifetime - margin)
        with self._lock:
            self._tokens[owner.cache_key] = token
        return value

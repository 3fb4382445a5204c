"""What a server with DEBUG off refuses to start on: development keys and a per-process cache.

Read by settings.py when DEBUG is off and by `manage.py serve` before it starts anything, so
both say the same thing. Nothing here imports Django's settings.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

# Development-only secrets: a server with DEBUG off refuses to start on them.
DEVELOPMENT_SECRET_KEY = "development-only-push-center-secret-key-do-not-deploy"
DEVELOPMENT_ENCRYPTION_KEY = "oucL3OR-ciZPcnfYcrjPTfH7_668lYuWe1XlrVvMT28="

# Django's Redis cache backend takes these schemes; anything else is not a shared cache.
SHARED_CACHE_SCHEMES = ("redis://", "rediss://", "unix://")


def check_production(secret_key: str, encryption_keys: list[str], cache_url: str) -> None:
    """Raise ImproperlyConfigured, naming the variable, for anything unfit to serve with."""
    if secret_key == DEVELOPMENT_SECRET_KEY or len(secret_key) < 32:
        raise ImproperlyConfigured(
            "PUSHCENTER_SECRET_KEY must be set to a private value of 32 characters or more "
            "when DEBUG is off; the development secret is refused"
        )
    if DEVELOPMENT_ENCRYPTION_KEY in encryption_keys:
        raise ImproperlyConfigured(
            "PUSHCENTER_ENCRYPTION_KEYS must be set to your own keys when DEBUG is off; "
            "the development encryption key is refused"
        )
    # Rate limits and login throttling count in the cache: a per-process memory cache would
    # let each web process grant its own allowance.
    if not cache_url.lower().startswith(SHARED_CACHE_SCHEMES):
        raise ImproperlyConfigured(
            "PUSHCENTER_CACHE_URL must name a Redis server (redis://host:6379/1) when DEBUG is "
            "off, so that API rate limits and login throttling hold across processes; "
            f"got {_scheme(cache_url)}"
        )


def _scheme(url: str) -> str:
    """Name what a URL is without repeating it: it may hold a password."""
    scheme, separator, _ = url.partition("://")
    return f"a {scheme}:// URL" if separator else "no URL" if not url else "not a URL"

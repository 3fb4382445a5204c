"""Where a request came from, for the limits counted per address (API, login, password reset)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """Return the address the request came from.

    Behind a trusted proxy (PUSHCENTER_BEHIND_TLS_PROXY) that is the last X-Forwarded-For entry,
    the one the proxy added; earlier entries come from the client and can be forged (MDN,
    X-Forwarded-For, "Security and privacy concerns"). Otherwise it is REMOTE_ADDR.
    """
    if settings.BEHIND_TLS_PROXY:
        last = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        if last:
            return last[:64]
    return request.META.get("REMOTE_ADDR") or "unknown"

"""A Content-Security-Policy on every page the server renders.

Django 5.2 has none built in, and one policy with a per-request nonce is all the dashboard
needs, so a small middleware does it rather than a library. Scripts and styles come from our
own origin; an inline <script> or <style> runs only when it carries the request's nonce
(`{{ request.csp_nonce }}`), and inline event handlers (onclick=…) never run. See the
W3C's Content Security Policy Level 3 and OWASP's Content Security Policy Cheat Sheet.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def policy(nonce: str) -> str:
    """Return the policy of one response, allowing inline code that carries the nonce."""
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
        "style-src": f"'self' 'nonce-{nonce}'",
        # Swagger UI and the admin draw a few icons as data: URIs.
        "img-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {sources}" for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    """Give each request a nonce and each HTML response the policy that names it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        if HEADER not in response and not _is_debug_error_page(response):
            response[HEADER] = policy(request.csp_nonce)
        return response


def _is_debug_error_page(response: HttpResponse) -> bool:
    """Tell whether this is Django's DEBUG error page, whose inline script and style have no
    nonce in Django 5.2: under DEBUG it keeps working, and with DEBUG off it is never shown."""
    return settings.DEBUG and response.status_code >= 400

"""The dashboard's middleware, which API requests pass by.

The API authenticates every request by its token and keeps no session, login, CSRF cookie or
message, so running these for it only cost time: about 60 µs of a registration's 1 ms of
server CPU (Django's handler called in a loop). Each class is Django's own, so the admin's
checks still find them; only API requests skip them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.middleware import AuthenticationMiddleware as _Authentication
from django.contrib.messages.middleware import MessageMiddleware as _Messages
from django.contrib.sessions.middleware import SessionMiddleware as _Sessions
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware as _Csrf

from pushcenter.api_errors import is_api


class DashboardOnly:
    """Run the middleware for dashboard requests; hand API requests straight on."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(DashboardOnly, _Sessions):
    pass


class CsrfViewMiddleware(DashboardOnly, _Csrf):
    def process_view(
        self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict
    ) -> HttpResponse | None:
        """Check the dashboard's forms; an API request carries a token, not a CSRF cookie."""
        if is_api(request):
            return None
        return super().process_view(request, view, args, kwargs)


class AuthenticationMiddleware(DashboardOnly, _Authentication):
    pass


class MessageMiddleware(DashboardOnly, _Messages):
    pass

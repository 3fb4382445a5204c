"""The dashboard's login, throttled per username and per client address, and password resets.

Failed logins are counted in the cache (Redis in production, which `manage.py serve` requires),
so the count is shared by every web process. Reaching the limit for a username, or for an
address, locks it for LOGIN_LOCKOUT_SECONDS: while locked, no password is even checked, so the
right one is refused too. OWASP Authentication Cheat Sheet, "Protect Against Automated Attacks".
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponse

from pushcenter.client_address import client_address


class LoginSubject:
    """One thing failed logins are counted for: a username or a client address."""

    def __init__(self, kind: str, value: str, limit: int, refusal: str) -> None:
        digest = hashlib.sha256(value.encode()).hexdigest()[:32]
        self.failures_key = f"login-failures:{kind}:{digest}"
        self.lock_key = f"login-lock:{kind}:{digest}"
        self.limit = limit
        self.refusal = refusal

    def locked_minutes(self) -> int:
        """Return the minutes left of this subject's lock, 0 when it is not locked."""
        until = cache.get(self.lock_key)
        if until is None:
            return 0
        return max(1, math.ceil((until - time.time()) / 60))

    def record_failure(self) -> None:
        """Count a failed login; the limit reached locks the subject and starts a new count."""
        lockout = settings.LOGIN_LOCKOUT_SECONDS
        cache.add(self.failures_key, 0, timeout=lockout)
        try:
            failures = cache.incr(self.failures_key)
        except ValueError:  # the count expired between add and incr
            cache.add(self.failures_key, 1, timeout=lockout)
            failures = 1
        if failures >= self.limit:
            cache.set(self.lock_key, time.time() + lockout, timeout=lockout)
            cache.delete(self.failures_key)

    def forget_failures(self) -> None:
        cache.delete(self.failures_key)


class ThrottledLoginForm(AdminAuthenticationForm):
    """The dashboard's login form, refusing a locked username or address before any check."""

    def clean(self) -> dict:
        """Refuse a locked subject; count a failure; forget the username's failures on success."""
        username = LoginSubject(
            "username",
            (self.cleaned_data.get("username") or "").strip().lower(),
            settings.LOGIN_FAILURES_PER_USERNAME,
            "Too many failed logins for this username.",
        )
        address = LoginSubject(
            "address",
            client_address(self.request),
            settings.LOGIN_FAILURES_PER_ADDRESS,
            "Too many failed logins from your address.",
        )
        for subject in (username, address):
            if minutes := subject.locked_minutes():
                raise ValidationError(
                    "%(refusal)s Try again in %(minutes)s minute(s), or reset your password.",
                    code="throttled",
                    params={"refusal": subject.refusal, "minutes": minutes},
                )
        try:
            cleaned = super().clean()
        except ValidationError:
            username.record_failure()
            address.record_failure()
            raise
        # Only the username's count: a working login must not wipe out an address's failures.
        username.forget_failures()
        return cleaned


class DashboardPageMixin:
    """Give a password-reset page the dashboard's header, title and navigation context."""

    def get_context_data(self, **kwargs: object) -> dict:
        context = super().get_context_data(**kwargs)
        return {**admin.site.each_context(self.request), **context}


class PasswordResetView(DashboardPageMixin, auth_views.PasswordResetView):
    """Ask for an email address and send a reset link (Django's view, in the dashboard).

    Each request counts against the client address like a failed login, so nobody can flood
    a user's mailbox with reset links from one address.
    """

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        requests = LoginSubject(
            "reset",
            client_address(self.request),
            settings.LOGIN_FAILURES_PER_ADDRESS,
            "Too many password resets from your address.",
        )
        if minutes := requests.locked_minutes():
            form.add_error("email", f"{requests.refusal} Try again in {minutes} minute(s).")
            return self.form_invalid(form)
        requests.record_failure()
        return super().form_valid(form)


class PasswordResetDoneView(DashboardPageMixin, auth_views.PasswordResetDoneView):
    """Say that a link was sent, if the address belongs to an account."""


class PasswordResetConfirmView(DashboardPageMixin, auth_views.PasswordResetConfirmView):
    """Set a new password from a valid link."""


class PasswordResetCompleteView(DashboardPageMixin, auth_views.PasswordResetCompleteView):
    """Say the password was set, with a link back to the login page."""

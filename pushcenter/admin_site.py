"""The dashboard: Django's admin site, titled Push Center and served at the root."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse

from pushcenter import page_extensions
from pushcenter.login import ThrottledLoginForm
from pushcenter.roles import ROLES

# What the landing page counts, in order. A model appears once its app is installed, and only
# for users who may view it.
DASHBOARD_COUNTS = [
    ("Apps", "devices.MobileApp"),
    ("Devices", "devices.Device"),
    ("Segments", "segments.Segment"),
    ("Notifications", "campaigns.Notification"),
]


def may_use_dashboard(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Tell whether a user may log in: active, and given a role (or staff status)."""
    if not user.is_active:
        return False
    # Asked on every dashboard request, so the answer is kept on the request's user.
    if not hasattr(user, "_has_role"):
        user._has_role = user.groups.filter(name__in=ROLES).exists()
    return user.is_staff or user._has_role


class DashboardLoginForm(ThrottledLoginForm):
    """The login form: a role is enough to log in, no separate staff status is needed."""

    def confirm_login_allowed(self, user: AbstractBaseUser) -> None:
        if not may_use_dashboard(user):
            super().confirm_login_allowed(user)


class PushCenterAdminSite(admin.AdminSite):
    site_header = "Push Center"
    site_title = "Push Center"
    index_title = "Overview"
    login_form = DashboardLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        """A person given a role may use the dashboard; the role says what they see there."""
        return may_use_dashboard(request.user)

    def get_urls(self) -> list:
        # The apps' own pages first: a model's patterns end in a catch-all for its objects.
        return [*page_extensions.pages(self), *super().get_urls()]

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        context = {"dashboard_counts": self.dashboard_counts(request), **(extra_context or {})}
        return super().index(request, context)

    def dashboard_counts(self, request: HttpRequest) -> list[dict[str, object]]:
        """Count each dashboard model the user may view, with a link to its list."""
        counts = []
        for label, model_label in DASHBOARD_COUNTS:
            app_label, model_name = model_label.split(".")
            try:
                model = apps.get_model(app_label, model_name)
            except LookupError:
                continue
            model_admin = self._registry.get(model)
            if model_admin is None or not model_admin.has_view_permission(request):
                continue
            counts.append(
                {
                    "label": label,
                    "count": model_admin.get_queryset(request).count(),
                    "url": _changelist_url(model),
                }
            )
        return counts


def _changelist_url(model: type) -> str:
    meta = model._meta
    try:
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    except NoReverseMatch:
        return ""

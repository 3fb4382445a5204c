"""The dashboard: Django's admin site, titled Push Center and served at the root."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse

from pushcenter import page_extensions
from pushcenter.login import ThrottledLoginForm

# What the landing page counts, in order. A model appears once its app is installed, and only
# for users who may view it.
DASHBOARD_COUNTS = [
    ("Apps", "devices.MobileApp"),
    ("Devices", "devices.Device"),
    ("Segments", "segments.Segment"),
    ("Notifications", "campaigns.Notification"),
]


class PushCenterAdminSite(admin.AdminSite):
    site_header = "Push Center"
    site_title = "Push Center"
    index_title = "Overview"
    login_form = ThrottledLoginForm

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

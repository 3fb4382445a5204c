"""The metrics pages in the dashboard, and what metrics adds to the notification and app pages.

The pages keep the paths they always had, under a notification's and an app's page, but they
are metrics' own: `admin:metrics_notification`, `admin:metrics_notification_csv` and
`admin:metrics_app`. Each finds its object through that model's dashboard page, so it reaches
only the apps the person may see (404 otherwise) and is refused (403) to whoever may not view
the object there. The notification and app pages link to them, and the notification list shows
the rates and conversions, through `pushcenter.page_extensions`; MetricsConfig.ready() calls
`register()`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse

from campaigns.models import Notification
from devices.models import MobileApp
from metrics import views
from metrics.models import NotificationSummary
from pushcenter import page_extensions
from pushcenter.page_extensions import Column, Link


class MetricsPages:
    """The pages, served by the dashboard site whose model pages decide who sees what."""

    def __init__(self, site: AdminSite) -> None:
        self.site = site

    def urls(self) -> list[URLPattern]:
        view = self.site.admin_view
        notification = "campaigns/notification/<int:pk>"
        return [
            path(f"{notification}/metrics/", view(self.notification), name="metrics_notification"),
            path(
                f"{notification}/metrics.csv",
                view(self.notification_csv),
                name="metrics_notification_csv",
            ),
            path("devices/mobileapp/<int:pk>/metrics/", view(self.app), name="metrics_app"),
        ]

    def notification(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Show the notification's statistics and charts."""
        notification = self._viewable(request, Notification, pk)
        return views.notification_page(request, notification, self._context(request, Notification))

    def notification_csv(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Export the notification's figures per minute, platform, language and outcome."""
        return views.notification_csv(self._viewable(request, Notification, pk))

    def app(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Chart the app's last 30 days of sends, deliveries and launches."""
        app = self._viewable(request, MobileApp, pk)
        return views.app_page(request, app, self._context(request, MobileApp))

    def _viewable(self, request: HttpRequest, model: type[models.Model], pk: int) -> models.Model:
        model_admin = self.site.get_model_admin(model)
        found = get_object_or_404(model_admin.get_queryset(request), pk=pk)
        if not model_admin.has_view_permission(request, found):
            raise PermissionDenied
        return found

    def _context(self, request: HttpRequest, model: type[models.Model]) -> dict:
        return {**self.site.each_context(request), "opts": model._meta}


def urls(site: AdminSite) -> list[URLPattern]:
    return MetricsPages(site).urls()


def notification_link(request: HttpRequest, notification: Notification) -> Link | None:
    """The notification page's link to its metrics, once it has started sending."""
    if not notification.started_at:
        return None
    return Link("Metrics", reverse("admin:metrics_notification", args=[notification.pk]))


def app_link(request: HttpRequest, app: MobileApp) -> Link:
    """The app page's link to its last 30 days."""
    return Link("Metrics", reverse("admin:metrics_app", args=[app.pk]))


def _summary(notification: Notification) -> NotificationSummary | None:
    try:
        return notification.summary
    except NotificationSummary.DoesNotExist:
        return None


def _rate(name: str) -> Callable[[Notification], str]:
    """A list cell showing one of the notification's rates as of its last rollup."""

    def cell(notification: Notification) -> str:
        rate = getattr(_summary(notification), name, None)
        return "—" if rate is None else f"{rate:.1%}"

    return cell


def conversions_cell(notification: Notification) -> str:
    """A list cell: conversions, their rate and summed value, for a notification with a goal."""
    if not notification.conversion_event:
        return "—"
    summary = _summary(notification)
    if summary is None:
        return "0"
    text = f"{summary.conversions}"
    if summary.conversion_rate is not None:
        text += f" ({summary.conversion_rate:.1%})"
    if summary.conversion_value is not None:
        text += f" · {summary.conversion_value:,.2f}"
    return text


RATE_COLUMNS = [
    Column("delivery_rate", "Delivery rate", _rate("delivery_rate"), reads=("summary",)),
    Column("launch_rate", "App launch rate", _rate("launch_rate"), reads=("summary",)),
    # Shown once some notification of the list has a goal: a laptop's list has no room to spare.
    Column(
        "conversions",
        "Conversions",
        conversions_cell,
        reads=("summary",),
        shown=lambda rows: rows.exclude(conversion_event="").exists(),
    ),
]


def register() -> None:
    """Serve the metrics pages, and link to them and show the rates on the pages they are of."""
    page_extensions.add_pages(urls)
    page_extensions.links.add(Notification, notification_link)
    page_extensions.links.add(MobileApp, app_link)
    for column in RATE_COLUMNS:
        page_extensions.add_column(Notification, column)

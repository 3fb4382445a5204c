"""Metrics pages: a notification's figures and charts, its CSV, and an app's last 30 days.

`metrics.admin` serves these in the dashboard after checking who may see what.
"""

from __future__ import annotations

import csv
from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from campaigns.models import ConversionStart, Notification
from devices.models import MobileApp
from metrics import charts, rollup
from metrics.models import NotificationSummary

# The statistics App Center listed, in its order, as (label, summary field).
OUTCOME_ROWS = [
    ("Failed", "failed"),
    ("Channel expiration failure", "channel_expired"),
    ("Sending", "sending"),
    ("Sent", "sent"),
    ("Unknown", "unknown"),
    ("Expired", "expired"),
    ("Skipped", "skipped"),
]


def summary_of(notification: Notification) -> NotificationSummary:
    """Return the notification's rollup summary, making it now if it has none yet."""
    found = NotificationSummary.objects.filter(notification=notification).first()
    return found or rollup.refresh(notification)


def outcome_table(summary: NotificationSummary) -> list[dict]:
    """Each outcome with its count and share of the targeted devices; launches of the sent."""
    rows = [
        {"label": label, "count": getattr(summary, name), "whole": summary.targeted}
        for label, name in OUTCOME_ROWS
    ]
    rows.insert(4, {"label": "Launches", "count": summary.launches, "whole": summary.sent})
    if summary.notification.conversion_event:
        converted = {"label": "Conversions", "count": summary.conversions, "whole": summary.sent}
        rows.insert(5, converted)
    for row in rows:
        row["percent"] = 100 * row["count"] / row["whole"] if row["whole"] else None
    return rows


def conversion_goal(notification: Notification, summary: NotificationSummary) -> dict | None:
    """The notification's conversion goal and rate, for its page; None when it has none."""
    if not notification.conversion_event:
        return None
    rate = summary.conversion_rate
    return {
        "event": notification.conversion_event,
        "window": window_label(notification.conversion_window_minutes),
        "start": "sending" if notification.conversion_starts == ConversionStart.SENT else "launch",
        "value_property": notification.conversion_value_property,
        "rate_percent": None if rate is None else 100 * rate,
    }


def window_label(minutes: int) -> str:
    """Write a window in the largest unit that divides it: 2 days, 90 minutes, 1 hour."""
    for unit, size in (("day", 24 * 60), ("hour", 60), ("minute", 1)):
        if minutes % size == 0:
            amount = minutes // size
            return f"{amount} {unit}{'' if amount == 1 else 's'}"
    return f"{minutes} minutes"


def notification_page(
    request: HttpRequest, notification: Notification, context: dict
) -> TemplateResponse:
    summary = summary_of(notification)
    context = {
        **context,
        "title": f"Metrics: {notification.name}",
        "notification": notification,
        "summary": summary,
        "outcomes": outcome_table(summary),
        "conversion": conversion_goal(notification, summary),
        "charts": {
            "timeline": charts.timeline(notification),
            "platforms": charts.split(notification, "platform"),
            "languages": charts.split(notification, "language"),
        },
    }
    return TemplateResponse(request, "admin/metrics/notification.html", context)


def notification_csv(notification: Notification) -> HttpResponse:
    summary_of(notification)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="notification-{notification.pk}.csv"'
    writer = csv.writer(response)
    for row in charts.csv_rows(notification):
        writer.writerow(row)
    return response


def app_page(request: HttpRequest, app: MobileApp, context: dict) -> TemplateResponse:
    now = timezone.now()
    recent = (
        Notification.objects.filter(app=app, started_at__gte=now - timedelta(days=30))
        .select_related("summary")
        .order_by("-started_at")
    )
    context = {
        **context,
        "title": f"Metrics: {app.display_name}",
        "app": app,
        "notifications": recent,
        # A developer reads an app's overview but not its notifications' pages.
        "notification_links": request.user.has_perm("campaigns.view_notification"),
        "charts": {"days": charts.app_days(app, now)},
    }
    return TemplateResponse(request, "admin/metrics/app.html", context)

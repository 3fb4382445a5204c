"""Who receives a notification: one query over the app's devices, never a loop in Python."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Case, CharField, Max, Q, QuerySet, Value, When

from campaigns import extensions
from campaigns.models import Notification, TargetKind
from devices.models import Device, DeviceStatus, MobileApp
from devices.versions import version_key
from pushcenter import isolation
from segments import services as segment_services
from segments.language import compile_definition
from segments.models import Segment


def audience(
    notification: Notification, segments: Iterable[Segment] | None = None
) -> QuerySet[Device]:
    """Return the devices the notification goes to: active, opted in, targeted and filtered.

    `segments` stands in for the notification's own before they are saved (the live estimate).
    """
    opted_in = Q(push_enabled=True) & _all(_checks(notification))
    return targeted(notification, segments).filter(opted_in)


def targeted(
    notification: Notification, segments: Iterable[Segment] | None = None
) -> QuerySet[Device]:
    """Return the active devices the target names on the notification's platforms, narrowed by
    the audience filters other apps registered (campaigns.extensions)."""
    devices = Device.objects.filter(
        app=notification.app, status=DeviceStatus.ACTIVE, platform__in=notification.platforms
    )
    if segments is None:
        segments = notification.segments.all()
    devices = devices.filter(_target(notification, segments))
    return extensions.narrowed(notification, devices)


def with_skip_reason(notification: Notification) -> QuerySet[Device]:
    """Return the targeted devices, each annotated with why it is left out ('' if it is not).

    The fan-out records the left-out ones as skipped, so nobody is silently dropped. A
    registered audience skip may leave them all out, with its reason.
    """
    everyone_skipped = extensions.whole_audience_skip(notification)
    if everyone_skipped:
        return targeted(notification).annotate(skip_reason=Value(everyone_skipped))
    checks = _checks(notification)
    whens = [When(push_enabled=False, then=Value("Opted out of notifications"))]
    # A device failing check k passed all the checks before it; no condition is negated, so
    # NULLs in JSON lookups cannot flip an answer.
    for k in range(len(checks), 0, -1):
        reason = "" if k == len(checks) else checks[k][1]
        whens.append(When(_all(checks[:k]), then=Value(reason)))
    first = checks[0][1] if checks else ""
    reason = Case(*whens, default=Value(first), output_field=CharField())
    return targeted(notification).annotate(skip_reason=reason)


def _target(notification: Notification, segments: Iterable[Segment]) -> Q:
    kind = notification.target_kind
    if kind == TargetKind.SEGMENTS:
        return segment_services.any_segment(notification.app, segments)
    if kind == TargetKind.INSTALL_IDS:
        return Q(install_id__in=notification.install_ids)
    if kind == TargetKind.USER_IDS:
        return Q(user_id__in=notification.user_ids)
    if kind == TargetKind.ACCOUNT_IDS:
        return Q(account_id__in=notification.account_ids)
    if kind == TargetKind.OUTDATED:
        return _outdated(notification.app)
    return Q()


def record_segment_errors(notification_id: int) -> None:
    """After a failed start or step: mark the targeted segments that cannot be evaluated, and
    say which on the notification."""
    segments = Notification.segments.through.objects.filter(notification_id=notification_id)
    for segment_id in segments.values_list("segment_id", flat=True):
        broken = segment_services.record_evaluation(segment_id, failed=True)
        if broken:
            isolation.mark_error(Notification, notification_id, broken)


def latest_version_key(app: MobileApp) -> str:
    """Return the key of the app's latest version: set on the app, else the highest seen."""
    if app.latest_version:
        return version_key(app.latest_version)
    active = Device.objects.filter(app=app, status=DeviceStatus.ACTIVE)
    return active.aggregate(key=Max("app_version_key"))["key"] or ""


def _outdated(app: MobileApp) -> Q:
    latest = latest_version_key(app)
    return Q(app_version_key__lt=latest) & ~Q(app_version_key="")


def _checks(notification: Notification) -> list[tuple[Q, str]]:
    """List the notification's filters, each with the reason a device failing it is skipped."""
    checks = []
    if notification.filter_languages:
        languages = ", ".join(notification.filter_languages)
        checks.append((Q(language__in=notification.filter_languages), f"Not in {languages}"))
    if notification.filter_time_zones:
        checks.append(
            (Q(time_zone__in=notification.filter_time_zones), "Not in the chosen time zones")
        )
    if notification.category:
        quoted = "'" + notification.category.replace("'", "''") + "'"
        condition = compile_definition(f"categories contains {quoted}", {})
        checks.append((condition, f"Not opted in to {notification.category}"))
    return checks


def _all(checks: list[tuple[Q, str]]) -> Q:
    condition = Q()
    for check, _ in checks:
        condition &= check
    return condition

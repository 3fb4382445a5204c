"""Local time: when a local-time send reaches each zone, and whether quiet hours hold there.

A device without a zone, or with one this machine does not know, counts as in its app's
default zone.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache

from devices.models import MobileApp


@lru_cache(maxsize=1024)
def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def zone_for(time_zone: str, app: MobileApp) -> zoneinfo.ZoneInfo:
    """Return the device's zone, or the app's default zone when it has none."""
    return _zone(time_zone) or _zone(app.default_time_zone) or zoneinfo.ZoneInfo("UTC")


def slices(wall_clock: datetime, zones: Iterable[str], app: MobileApp) -> dict[datetime, list[str]]:
    """Group the zones by the UTC instant at which their clocks show `wall_clock`.

    `wall_clock` is a local date and time, stored as if it were UTC.
    """
    local = wall_clock.replace(tzinfo=None)
    grouped: dict[datetime, list[str]] = defaultdict(list)
    for name in zones:
        instant = local.replace(tzinfo=zone_for(name, app)).astimezone(UTC)
        grouped[instant].append(name)
    return dict(grouped)


def quiet_until(app: MobileApp, zone: zoneinfo.ZoneInfo, now: datetime) -> datetime | None:
    """Return when the app's quiet hours end in this zone, or None if they do not hold now."""
    start, end = app.quiet_hours_start, app.quiet_hours_end
    if start is None or end is None:
        return None
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        quiet, next_day = start <= clock < end, False
    else:  # overnight, such as 22:00–08:00
        quiet, next_day = clock >= start or clock < end, clock >= start
    if not quiet:
        return None
    day = local.date() + timedelta(days=1 if next_day else 0)
    return datetime.combine(day, end, tzinfo=zone).astimezone(UTC)


def describe_quiet_hours(app: MobileApp) -> str:
    return f"{_hhmm(app.quiet_hours_start)}–{_hhmm(app.quiet_hours_end)} local time"


def _hhmm(value: time | None) -> str:
    return value.strftime("%H:%M") if value else ""

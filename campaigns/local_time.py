"""Local time: when a local-time send reaches each zone, and whether quiet hours hold there.

A device without a zone, or with one this machine does not know, counts as in its app's
default zone. The default zone and the quiet hours are the app's sending rules.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.models import SendingRules
from devices.models import MobileApp

# Clocks run from UTC-12 to UTC+14: a time between these can be moved into any zone and back,
# and a local time's first and last sends computed, without passing datetime's years 1 to 9999.
EARLIEST_SCHEDULE = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_SCHEDULE = datetime(9999, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=1024)
def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def zone_for(time_zone: str, app: MobileApp) -> zoneinfo.ZoneInfo:
    """Return the device's zone, or the app's default zone when it has none."""
    default = SendingRules.of(app).default_time_zone
    return _zone(time_zone) or _zone(default) or zoneinfo.ZoneInfo("UTC")


def check_schedulable(value: datetime | None) -> datetime | None:
    """Return a send or expiry time if every zone can reach it, else raise naming the years."""
    if value is not None and not EARLIEST_SCHEDULE <= _as_utc(value) < LATEST_SCHEDULE:
        raise ValidationError(
            f"Choose a date from the year {EARLIEST_SCHEDULE.year} to {LATEST_SCHEDULE.year - 1}."
        )
    return value


def with_utc(moment: datetime) -> str:
    """Show a moment in the reader's zone with UTC beside it.

    '2026-12-05 18:00 Europe/Paris (17:00 UTC)'; for a reader in UTC, '2026-12-05 17:00 UTC'.
    """
    zone = timezone.get_current_timezone()
    utc = moment.astimezone(UTC)
    if str(zone) == "UTC":
        return f"{utc:%Y-%m-%d %H:%M} UTC"
    local = moment.astimezone(zone)
    day = "" if local.date() == utc.date() else f"{utc:%Y-%m-%d} "
    return f"{local:%Y-%m-%d %H:%M} {zone} ({day}{utc:%H:%M} UTC)"


def _as_utc(value: datetime) -> datetime:
    # A local time is stored as if it were UTC; a naive value is read the same way.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


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
    rules = SendingRules.of(app)
    start, end = rules.quiet_hours_start, rules.quiet_hours_end
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
    rules = SendingRules.of(app)
    return f"{_hhmm(rules.quiet_hours_start)}–{_hhmm(rules.quiet_hours_end)} local time"


def _hhmm(value: time | None) -> str:
    return value.strftime("%H:%M") if value else ""

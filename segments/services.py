"""Segments for the dashboard, the audiences API and sending: validate, save, count, sample."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet

from devices.models import Device, DeviceStatus, MobileApp
from devices.services import property_types_for_update
from pushcenter import isolation
from segments.language import DefinitionError, check_definition, compile_definition
from segments.models import Segment

SAMPLE_SIZE = 10
# The databases Push Center runs on: a definition must compile for each.
VENDORS = ("sqlite", "postgresql")
# What evaluating a stored definition can raise: a rule it breaks (one stored before the rule
# existed), a type the app now declares otherwise, or a value the database cannot take.
EVALUATION_ERRORS = (DefinitionError, ValidationError, DatabaseError, ArithmeticError, ValueError)


def property_types(app: MobileApp, declared: dict[str, str]) -> dict[str, str]:
    """Return the app's custom property types with a segment's declared ones, if they agree."""
    merged = dict(app.custom_property_types)
    for name, kind in declared.items():
        if merged.get(name, kind) != kind:
            raise ValidationError(
                {
                    "custom_property_types": f"{name!r} is declared {merged[name]} by the app, "
                    f"not {kind}."
                }
            )
        merged[name] = kind
    return merged


def any_segment(app: MobileApp, segments: Iterable[Segment], now: datetime | None = None) -> Q:
    """Match a device in any of the segments: one OR of their conditions, so a device once.

    Relative times and did(...) windows end at `now` (default: the current time), so work
    that runs for a moment, such as a journey's scan, sees the members of that moment.
    """
    condition = Q(pk__in=[])
    for segment in segments:
        types = property_types(app, segment.custom_property_types)
        condition |= compile_definition(segment.definition, types, now=now)
    return condition


def validate_definition(app: MobileApp, definition: str, declared: dict[str, str]) -> None:
    """Raise ValidationError on the definition field when it cannot be evaluated.

    It must parse and type-check, compile for both databases, and run once here: what is
    saved then runs for every send and journey after.
    """
    types = property_types(app, declared)
    try:
        check_definition(definition, types)
    except DefinitionError as error:
        raise ValidationError({"definition": str(error)}) from None
    error = evaluation_error(app, definition, declared)
    if error:
        raise ValidationError({"definition": error})


def evaluation_error(app: MobileApp, definition: str, declared: dict[str, str]) -> str:
    """Say why a definition cannot be evaluated now, on either database; "" when it can."""
    try:
        types = property_types(app, declared)
        for vendor in VENDORS:
            compile_definition(definition, types, vendor=vendor)
        with transaction.atomic():
            matching(app, definition, declared).exists()
    except EVALUATION_ERRORS as error:
        return _explained(error)
    return ""


def count_members(segment: Segment) -> tuple[int | None, str]:
    """Count a segment's members now, or say why its stored definition cannot be evaluated."""
    try:
        with transaction.atomic():
            return members(segment).count(), ""
    except EVALUATION_ERRORS as error:
        return None, _explained(error)


def _explained(error: Exception) -> str:
    if isinstance(error, DefinitionError):
        return str(error)
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return f"The database cannot evaluate it: {isolation.describe(error)}"


def record_evaluation(segment_id: int, *, failed: bool) -> str:
    """After work that evaluated a segment: mark it if it cannot be evaluated, else clear it.

    Returns what is wrong with the segment, for the work that failed to say so too ("" if
    nothing is).
    """
    segment = Segment.objects.filter(pk=segment_id).select_related("app").first()
    if segment is None:
        return ""
    error = segment_error(segment) if failed else ""
    if error:
        isolation.mark_error(Segment, segment_id, error)
        return f"The segment {segment.name} cannot be evaluated: {error}"
    isolation.clear_error(Segment, segment_id)
    return ""


def segment_error(segment: Segment) -> str:
    """Say why a stored segment cannot be evaluated now; "" when it can."""
    return evaluation_error(segment.app, segment.definition, segment.custom_property_types)


def save_segment(
    app: MobileApp,
    name: str,
    *,
    definition: str,
    description: str = "",
    declared: dict[str, str] | None = None,
    author: AbstractBaseUser | None = None,
) -> tuple[Segment, bool]:
    """Create or replace an app's segment by name; the app learns its declared property types."""
    declared = declared or {}
    segment = Segment.objects.filter(app=app, name=name).first() or Segment(app=app, name=name)
    created = segment.pk is None
    segment.definition, segment.description = definition, description
    segment.custom_property_types = declared
    if created:
        segment.author = author
    segment.full_clean()
    validate_definition(app, definition, declared)
    with transaction.atomic():
        declare_types(app, declared)
        segment.save()
    return segment, created


def declare_types(app: MobileApp, declared: dict[str, str]) -> None:
    """Add a segment's property types to the app's, refusing a clash with a declared type."""
    if all(app.custom_property_types.get(n) == k for n, k in declared.items()):
        return
    with property_types_for_update(app) as types:
        for name, kind in declared.items():
            if types.setdefault(name, kind) != kind:
                raise ValidationError(
                    {"custom_property_types": f"{name!r} is declared {types[name]} by the app."}
                )


def members(segment: Segment) -> QuerySet[Device]:
    """Return the active devices that match the segment now (membership is always live)."""
    return matching(segment.app, segment.definition, segment.custom_property_types)


def matching(app: MobileApp, definition: str, declared: dict[str, str]) -> QuerySet[Device]:
    """Return the app's active devices matching a definition, in one query."""
    condition = compile_definition(definition, property_types(app, declared))
    return Device.objects.filter(app=app, status=DeviceStatus.ACTIVE).filter(condition)


@dataclass
class Preview:
    """What the segment page shows as the marketer types: an error, or a count and a sample."""

    error: dict[str, object] | None = None
    count: int = 0
    sample: list[dict[str, object]] = field(default_factory=list)


def preview(app: MobileApp, definition: str, declared: dict[str, str]) -> Preview:
    """Check a definition and, when it is valid, count and sample its devices."""
    try:
        devices = matching(app, definition, declared)
    except DefinitionError as error:
        return Preview(error=_error_fields(error))
    except ValidationError as error:
        return Preview(error={"message": " ".join(error.messages)})
    try:
        with transaction.atomic():
            sample = list(devices.order_by("-last_seen")[:SAMPLE_SIZE])
            return Preview(count=devices.count(), sample=[_sample_row(d) for d in sample])
    except EVALUATION_ERRORS as error:
        return Preview(error={"message": _explained(error)})


def _error_fields(error: DefinitionError) -> dict[str, object]:
    return {
        "message": str(error),
        "line": error.line,
        "column": error.column,
        "offset": error.offset,
        "found": error.found,
        "expected": error.expected,
    }


def _sample_row(device: Device) -> dict[str, object]:
    return {
        "install_id": str(device.install_id),
        "user_id": device.user_id,
        "platform": device.platform,
        "carrier_country": device.carrier_country,
        "app_version": device.app_version,
        "locale": device.locale,
    }

"""Segment.com's Webhooks destination: check a call's signature, read it, and do what it asks.

Segment.com signs each call with the shared secret set on the app's page: the X-Signature
header is the hexadecimal HMAC-SHA1 of the raw body under that secret.

Who a call is about: its userId names a user, that is every active device mapped to that user
id. A call without one names installs instead: context.device.id and anonymousId, each when it
is a UUID, so an app that gives Segment.com its install id as the anonymousId (or the device
id) reaches that one device.

track records an event, as the events API does; identify merges the traits into the devices'
custom properties; page, screen, group, alias and any other type are acknowledged and ignored.

Segment.com retries a call it is not sure arrived, with the same messageId, and a signed body
can be captured and sent again; so a messageId seen for an app in the last 24 hours is
acknowledged and not done twice, as Segment.com itself deduplicates on messageId over about 24
hours (Segment.com docs, "Handling Duplicate Data").

The answers and errors keep saying "Segment", as the API always has.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime
from django.views.decorators.debug import sensitive_variables
from rest_framework import serializers

from devices.models import Device, DeviceStatus, MobileApp
from devices.registration import declare_custom_property_types
from devices.serializers import MAX_CUSTOM_PROPERTIES, check_custom_property
from events.models import EventSource
from journeys import event_rules, events

SIGNATURE_HEADER = "X-Signature"
REPLAY_WINDOW_SECONDS = 24 * 60 * 60
MAX_MESSAGE_ID = 200


class BadSignature(Exception):
    """The call is not signed with the app's shared secret."""


class CallError(ValueError):
    """The call cannot be read; `field` names the part at fault, when there is one."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field


@sensitive_variables("secret")
def verify(secret: str, body: bytes, signature: str | None) -> None:
    """Check X-Signature against the HMAC-SHA1 of the body, in constant time."""
    if not signature:
        raise BadSignature(
            f"The {SIGNATURE_HEADER} header is missing: set the shared secret "
            "in Segment's Webhooks destination."
        )
    expected = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise BadSignature(
            f"The {SIGNATURE_HEADER} header does not match the body under this app's shared "
            "secret: set the same secret in Segment and on the app's page."
        )


def handle(app: MobileApp, body: bytes) -> dict:
    """Do what a verified call asks and say what was done; a replayed messageId does nothing."""
    call = parse(body)
    message_id = _message_id(call)
    if message_id is None:
        return _do(app, call)
    key = _replay_key(app, message_id)
    if not cache.add(key, True, timeout=REPLAY_WINDOW_SECONDS):
        return {"type": call["type"], "replayed": message_id}
    try:
        return _do(app, call)
    except BaseException:
        # Not done: Segment.com's retry of this call must not be taken for a replay.
        cache.delete(key)
        raise


def _do(app: MobileApp, call: dict) -> dict:
    """Do what the call's type asks."""
    kind = call["type"]
    if kind == "track":
        return track(app, call)
    if kind == "identify":
        return identify(app, call)
    return {"ignored": kind}


def _message_id(call: dict) -> str | None:
    value = call.get("messageId")
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_MESSAGE_ID:
        raise CallError(
            "messageId",
            f"A messageId is a non-empty string of at most {MAX_MESSAGE_ID} characters.",
        )
    return value


def _replay_key(app: MobileApp, message_id: str) -> str:
    # Hashed: a cache key must be short and plain, and the id is the caller's text.
    digest = hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"segment-message:{app.pk}:{digest}"


def parse(body: bytes) -> dict:
    """Read one call: a JSON object with a type."""
    try:
        call = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        raise CallError(None, f"The body is not valid JSON: {error}.") from None
    if not isinstance(call, dict):
        raise CallError(
            None,
            "The body must be one Segment call, a JSON object; turn batching off in Segment's "
            "Webhooks destination.",
        )
    if not isinstance(call.get("type"), str) or not call["type"]:
        raise CallError("type", "Required: the call's type, such as track or identify.")
    return call


def track(app: MobileApp, call: dict) -> dict:
    """Record the event for the call's person; their devices enter its journeys."""
    if call.get("event") is None:
        raise CallError("event", "Required: a track call names its event.")
    name = _checked("event", event_rules.check_name, call["event"])
    properties = call.get("properties")
    if properties is not None:
        properties = _checked("properties", event_rules.check_properties, properties)
    user_ids, install_ids = people(call)
    if not user_ids and not install_ids:
        return {"type": "track", "name": name, "devices": 0, "enrolled": 0}
    recorded = events.record(
        app,
        name,
        user_ids=user_ids,
        install_ids=install_ids,
        properties=properties,
        occurred_at=_timestamp(call.get("timestamp")),
        source=EventSource.SEGMENT_COM,
    )
    return {
        "type": "track",
        "name": name,
        "devices": recorded.devices,
        "enrolled": recorded.enrolled,
    }


def identify(app: MobileApp, call: dict) -> dict:
    """Merge the traits into the custom properties of the call's person's active devices.

    A trait is skipped, with the reason, when its name cannot be a custom property's, its value
    is not a string, number or boolean, or it has not the type the app declares.
    """
    traits = call.get("traits")
    if traits is None:
        traits = {}
    if not isinstance(traits, dict):
        raise CallError("traits", "Must be a JSON object.")
    accepted, skipped = sort_traits(app, traits)
    devices = _devices(app, *people(call))
    merged: set[str] = set()
    if accepted and devices.exists():
        declare_custom_property_types(app, accepted)
    with transaction.atomic():
        found = list(devices.select_for_update().order_by("pk"))
        for device in found:
            merged |= _merge(device, accepted)
    left_out = f"a device has at most {MAX_CUSTOM_PROPERTIES} custom properties"
    skipped.update({name: left_out for name in accepted if found and name not in merged})
    return {"type": "identify", "devices": len(found), "merged": sorted(merged), "skipped": skipped}


def sort_traits(app: MobileApp, traits: dict) -> tuple[dict, dict[str, str]]:
    """Split traits into custom property values and the reasons others are skipped."""
    accepted: dict[str, object] = {}
    skipped: dict[str, str] = {}
    for name, value in traits.items():
        if value is None:
            skipped[name] = "Must be a string, number or boolean."
            continue
        if isinstance(value, str) and event_rules.UNSTORABLE.search(value):
            skipped[name] = "Must not hold the NUL character or a lone surrogate."
            continue
        try:
            accepted[name] = check_custom_property(name, value, app.custom_property_types.get(name))
        except serializers.ValidationError as error:
            skipped[name] = _first_message(error.detail)
    return accepted, skipped


def people(call: dict) -> tuple[list[str], list[str]]:
    """Return the user ids and install ids a call names."""
    user_id = call.get("userId")
    if user_id is not None:
        return [_user_id(user_id)], []
    device = _object(_object(call.get("context")).get("device"))
    candidates = (device.get("id"), call.get("anonymousId"))
    if all(candidate is None for candidate in candidates):
        raise CallError("userId", "Required: a call names its person by userId or anonymousId.")
    return [], [str(found) for found in map(_uuid, candidates) if found]


def _user_id(value: object) -> str:
    limit = event_rules.MAX_USER_ID
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > limit
        or event_rules.UNSTORABLE.search(value)
    ):
        raise CallError("userId", f"A userId is a non-blank string of at most {limit} characters.")
    return value


def _devices(app: MobileApp, user_ids: list[str], install_ids: list[str]) -> QuerySet[Device]:
    return Device.objects.filter(app=app, status=DeviceStatus.ACTIVE).filter(
        Q(user_id__in=user_ids) | Q(install_id__in=install_ids)
    )


def _merge(device: Device, values: dict) -> set[str]:
    """Set the values on the device while it has room; return the names it took."""
    properties = dict(device.custom_properties)
    taken = set()
    for name, value in values.items():
        if name in properties or len(properties) < MAX_CUSTOM_PROPERTIES:
            properties[name] = value
            taken.add(name)
    if properties != device.custom_properties:
        device.custom_properties = properties
        device.save(update_fields=["custom_properties"])
    return taken


def _timestamp(value: object) -> datetime | None:
    if value is None:
        return None
    rule = "An ISO 8601 date and time such as 2026-03-21T09:30:00Z."
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise CallError("timestamp", rule)
    try:
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise CallError("timestamp", rule) from None
    return _checked("timestamp", event_rules.check_occurred_at, moment)


def _checked(field: str, check: object, value: object) -> object:
    try:
        return check(value)
    except event_rules.RuleError as error:
        raise CallError(field, str(error)) from None


def _object(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _first_message(detail: object) -> str:
    while isinstance(detail, dict | list):
        detail = next(iter(detail.values())) if isinstance(detail, dict) else detail[0]
    return str(detail)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")

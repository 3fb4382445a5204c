"""The device-registration API's bodies: strict about types, names and unknown fields."""

from __future__ import annotations

import math
import re
import zoneinfo
from datetime import UTC, datetime
from functools import cache

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from devices.models import (
    PROPERTY_NAME_RE,
    Device,
    DeviceStatus,
    Platform,
    property_name_problem,
)
from devices.providers import addresses

LOCALE_RE = re.compile(r"^([A-Za-z]{2,3})(-[A-Za-z]{4})?(-(?:[A-Za-z]{2}|\d{3}))?$")
COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")
SCREEN_SIZE_RE = re.compile(r"^\d{1,5}x\d{1,5}$")
MAX_CUSTOM_PROPERTIES = 60
MAX_STRING_PROPERTY = 256
MAX_CATEGORIES = 50


class StrictSerializer(serializers.Serializer):
    """A serializer that refuses fields it does not know, by name."""

    def to_internal_value(self, data: object) -> dict:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {unknown[0]: ["Unknown field."]}, code="unknown_field"
                )
        return super().to_internal_value(data)


class TextField(serializers.CharField):
    """A string field that takes only JSON strings, never numbers or booleans turned to text."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: object) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: object) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


@cache
def known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def normalize_locale(value: str) -> str:
    """Return a BCP 47 tag in its usual case (en-US, zh-Hant-TW), or refuse it."""
    match = LOCALE_RE.match(value)
    if not match:
        raise serializers.ValidationError(
            "Must be a BCP 47 language tag such as en-US.", code="invalid_locale"
        )
    language, script, region = match.group(1), match.group(2) or "", match.group(3) or ""
    return language.lower() + script.title() + region.upper()


class DevicePropertiesSerializer(StrictSerializer):
    """The built-in device properties, under App Center's names."""

    appVersion = TextField(max_length=64, required=False, allow_blank=True)
    carrierCountry = TextField(max_length=2, required=False, allow_blank=True)
    deviceOsVersion = TextField(max_length=64, required=False, allow_blank=True)
    osApiLevel = StrictIntegerField(min_value=0, max_value=10_000, required=False, allow_null=True)
    model = TextField(max_length=100, required=False, allow_blank=True)
    oemName = TextField(max_length=100, required=False, allow_blank=True)
    screenSize = TextField(max_length=20, required=False, allow_blank=True)

    def validate_carrierCountry(self, value: str) -> str:
        if value and not COUNTRY_RE.match(value):
            raise serializers.ValidationError(
                "Must be an ISO 3166 two-letter country code such as US."
            )
        return value.upper()

    def validate_screenSize(self, value: str) -> str:
        if value and not SCREEN_SIZE_RE.match(value):
            raise serializers.ValidationError("Must be WIDTHxHEIGHT in pixels, such as 1170x2532.")
        return value


def not_blank(value: str | None) -> str | None:
    """Refuse a blank id: null, not "", is how a client clears one."""
    if value is not None and not value.strip():
        raise serializers.ValidationError("Must not be blank; send null to clear it.")
    return value


class DeviceRegistrationSerializer(StrictSerializer):
    """A device's whole registration, as PUT sends it."""

    platform = serializers.ChoiceField(choices=Platform.choices)
    push_token = TextField(required=False, allow_null=True, max_length=1024)
    channel_uri = TextField(required=False, allow_null=True, max_length=addresses.MAX_CHANNEL_URI)
    user_id = TextField(required=False, allow_null=True, max_length=256)
    account_id = TextField(
        required=False,
        allow_null=True,
        max_length=256,
        help_text="The customer account the install signed in to; account_ids_target reaches "
        "every device of an account.",
    )
    locale = TextField(required=False, allow_blank=True, max_length=35)
    time_zone = TextField(required=False, allow_blank=True, max_length=64)
    properties = DevicePropertiesSerializer(required=False)
    custom_properties = serializers.DictField(required=False)
    push_enabled = StrictBooleanField(required=False)
    categories = serializers.ListField(
        child=TextField(max_length=64), required=False, max_length=MAX_CATEGORIES
    )

    def validate_locale(self, value: str) -> str:
        return normalize_locale(value) if value else ""

    def validate_time_zone(self, value: str) -> str:
        if value and value not in known_time_zones():
            raise serializers.ValidationError("Must be an IANA time zone such as Europe/Paris.")
        return value

    def validate_user_id(self, value: str | None) -> str | None:
        return not_blank(value)

    def validate_account_id(self, value: str | None) -> str | None:
        return not_blank(value)

    def validate_categories(self, value: list[str]) -> list[str]:
        for category in value:
            if not PROPERTY_NAME_RE.match(category):
                raise serializers.ValidationError(
                    f"Category {category!r} must be 1 to 64 letters, digits, '_', '.' or '-'."
                )
        return sorted(set(value))

    def validate_custom_properties(self, value: dict) -> dict:
        types = self.context["app"].custom_property_types
        return {
            name: check_custom_property(name, raw, types.get(name)) for name, raw in value.items()
        }

    def validate(self, data: dict) -> dict:
        return check_registration(data)


def check_registration(data: dict) -> dict:
    """Check what one field cannot check alone: the address the platform needs, the count."""
    platform = data["platform"]
    if platform == Platform.WINDOWS:
        _require(data, "channel_uri", "push_token", "Windows devices register a WNS channel_uri")
        data["channel_uri"] = _address(
            "channel_uri", addresses.check_channel_uri, data["channel_uri"], settings.WNS_HOSTS
        )
    else:
        _require(
            data,
            "push_token",
            "channel_uri",
            f"{Platform(platform).label} devices register a push_token",
        )
        check = (
            addresses.check_apns_token if platform == Platform.IOS else addresses.check_fcm_token
        )
        data["push_token"] = _address("push_token", check, data["push_token"])
    if len(data.get("custom_properties", {})) > MAX_CUSTOM_PROPERTIES:
        raise serializers.ValidationError(
            {"custom_properties": [f"At most {MAX_CUSTOM_PROPERTIES} custom properties."]}
        )
    return data


def validated_registration(app: object, body: object) -> dict:
    """Validate a registration body for this app and return its data, or raise the first error.

    Registration is the API's busiest call, and building the serializer's fields (DRF deep-copies
    them for each instance) cost more than checking a body. So a plain body, the kind apps send,
    is checked by plain_registration; anything it does not vouch for, each invalid body included,
    goes through the serializer, which names the field and the rule.
    """
    plain = plain_registration(body, app.custom_property_types)
    if plain is not None:
        return plain
    serializer = DeviceRegistrationSerializer(data=body, context={"app": app})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _text_rules(serializer: type[serializers.Serializer], names: tuple[str, ...]) -> dict:
    """Read each text field's most characters and whether it may be blank off the serializer,
    so the plain path and the serializer cannot come to disagree on them."""
    fields = serializer().fields
    return {name: (fields[name].max_length, fields[name].allow_blank) for name in names}


# DeviceRegistrationSerializer's rules for plain bodies; those in _NULLABLE may also be null.
_PLAIN_TEXT = _text_rules(
    DeviceRegistrationSerializer,
    ("push_token", "channel_uri", "user_id", "account_id", "locale", "time_zone"),
)
_PLAIN_PROPERTIES = {
    name: max_length
    for name, (max_length, _) in _text_rules(
        DevicePropertiesSerializer,
        ("appVersion", "carrierCountry", "deviceOsVersion", "model", "oemName", "screenSize"),
    ).items()
}
_NULLABLE = frozenset(
    name for name, field in DeviceRegistrationSerializer().fields.items() if field.allow_null
)


def plain_registration(body: object, types: dict[str, str]) -> dict | None:
    """Return what DeviceRegistrationSerializer would validate from a plain body, else None.

    Plain: every string already trimmed, not blank where its field refuses blanks, and free of
    NUL and surrogates; every value of the type its field takes. None says nothing about the
    body but that the serializer must judge it; test_registration_fast_path holds the two equal.
    """
    if not isinstance(body, dict) or "platform" not in body:
        return None
    if not body.keys() <= _REGISTRATION_FIELDS:
        return None
    data = {}
    for name, value in body.items():
        checked = _PLAIN_FIELDS[name](name, value, types)
        if checked is _NOT_PLAIN:
            return None
        data[name] = checked
    try:
        return check_registration(data)
    except serializers.ValidationError:
        return None


_NOT_PLAIN = object()


def _plain_text(value: object, max_length: int, allow_blank: bool) -> bool:
    if not isinstance(value, str) or len(value) > max_length or value != value.strip():
        return False
    return (allow_blank or value != "") and not (
        "\x00" in value or (not value.isascii() and _SURROGATE.search(value))
    )


_SURROGATE = re.compile("[\ud800-\udfff]")


def _plain_platform(name: str, value: object, types: dict) -> object:
    return value if isinstance(value, str) and value in Platform.values else _NOT_PLAIN


def _plain_string(name: str, value: object, types: dict) -> object:
    if value is None and name in _NULLABLE:
        return None
    max_length, allow_blank = _PLAIN_TEXT[name]
    if not _plain_text(value, max_length, allow_blank):
        return _NOT_PLAIN
    if name == "locale":
        return value and _or_not_plain(normalize_locale, value)
    if name == "time_zone" and value and value not in known_time_zones():
        return _NOT_PLAIN
    return value


def _plain_properties(name: str, value: object, types: dict) -> object:
    if not isinstance(value, dict):
        return _NOT_PLAIN
    for key, item in value.items():
        if key == "osApiLevel":
            if item is not None and not (type(item) is int and 0 <= item <= 10_000):
                return _NOT_PLAIN
        elif key not in _PLAIN_PROPERTIES or not _plain_text(item, _PLAIN_PROPERTIES[key], True):
            return _NOT_PLAIN
    country, screen = value.get("carrierCountry"), value.get("screenSize")
    if (country and not COUNTRY_RE.match(country)) or (screen and not SCREEN_SIZE_RE.match(screen)):
        return _NOT_PLAIN
    return {**value, "carrierCountry": country.upper()} if country else dict(value)


def _plain_custom_properties(name: str, value: object, types: dict) -> object:
    if not isinstance(value, dict):
        return _NOT_PLAIN
    try:
        return {key: check_custom_property(key, raw, types.get(key)) for key, raw in value.items()}
    except serializers.ValidationError:
        return _NOT_PLAIN


def _plain_push_enabled(name: str, value: object, types: dict) -> object:
    return value if isinstance(value, bool) else _NOT_PLAIN


def _plain_categories(name: str, value: object, types: dict) -> object:
    if not isinstance(value, list) or len(value) > MAX_CATEGORIES:
        return _NOT_PLAIN
    for category in value:
        if not _plain_text(category, 64, False) or not PROPERTY_NAME_RE.match(category):
            return _NOT_PLAIN
    return sorted(set(value))


def _or_not_plain(check: object, value: str) -> object:
    try:
        return check(value)
    except serializers.ValidationError:
        return _NOT_PLAIN


_PLAIN_FIELDS = {
    "platform": _plain_platform,
    **dict.fromkeys(_PLAIN_TEXT, _plain_string),
    "properties": _plain_properties,
    "custom_properties": _plain_custom_properties,
    "push_enabled": _plain_push_enabled,
    "categories": _plain_categories,
}
_REGISTRATION_FIELDS = frozenset(_PLAIN_FIELDS)


def _require(data: dict, needed: str, refused: str, rule: str) -> None:
    if not data.get(needed):
        raise serializers.ValidationError({needed: [f"Required: {rule}."]}, code="required")
    if data.get(refused):
        raise serializers.ValidationError({refused: [f"Not allowed: {rule}."]}, code="not_allowed")


def _address(field: str, check: object, *args: object) -> str:
    try:
        return check(*args)
    except addresses.AddressError as error:
        raise serializers.ValidationError(
            {field: [f"The {field} {error}."]}, code="invalid"
        ) from None


def check_custom_property(name: str, value: object, declared: str | None) -> object:
    """Return a custom property's value if its name and type are right; null removes it."""
    problem = property_name_problem(name)
    if problem:
        raise serializers.ValidationError({name: f"A custom property's name: {problem}."})
    if value is None:
        return None
    kind = declared or infer_type(value)
    if kind is None:
        raise serializers.ValidationError({name: "Must be a string, number or boolean."})
    return _typed(name, value, kind)


def infer_type(value: object) -> str | None:
    """Name the type a first value declares: string, number or boolean."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _typed(name: str, value: object, kind: str) -> object:
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value):
            return value
    if kind == "string" and isinstance(value, str) and len(value) <= MAX_STRING_PROPERTY:
        return value
    if kind == "datetime" and isinstance(value, str):
        normalized = normalize_datetime(value)
        if normalized:
            return normalized
    rule = {
        "string": f"a string of at most {MAX_STRING_PROPERTY} characters",
        "number": "a finite number",
        "boolean": "true or false",
        "datetime": "an ISO 8601 date and time such as 2026-01-31T09:00:00Z",
    }[kind]
    raise serializers.ValidationError({name: f"Must be {rule}: the app declares it {kind}."})


def normalize_datetime(value: str) -> str | None:
    """Return an ISO 8601 date-time in UTC as YYYY-MM-DDTHH:MM:SSZ, or None if it is not one."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC)
    # Four-digit years always, so that stored values sort as text in time order.
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}Z"


class DevicePropertiesReadSerializer(serializers.Serializer):
    appVersion = serializers.CharField(source="app_version")
    carrierCountry = serializers.CharField(source="carrier_country")
    deviceOsVersion = serializers.CharField(source="device_os_version")
    osApiLevel = serializers.IntegerField(source="os_api_level", allow_null=True)
    model = serializers.CharField(source="device_model")
    oemName = serializers.CharField(source="oem_name")
    screenSize = serializers.CharField(source="screen_size")


class DeviceSerializer(serializers.ModelSerializer):
    """A device as the API shows it."""

    properties = DevicePropertiesReadSerializer(source="*")
    categories = serializers.ListField(child=serializers.CharField())
    custom_properties = serializers.DictField()
    status = serializers.ChoiceField(choices=DeviceStatus.choices)

    class Meta:
        model = Device
        fields = [
            "install_id",
            "platform",
            "push_token",
            "channel_uri",
            "channel_expires_at",
            "user_id",
            "account_id",
            "locale",
            "time_zone",
            "properties",
            "custom_properties",
            "push_enabled",
            "categories",
            "status",
            "first_seen",
            "last_seen",
        ]


def device_json(device: Device) -> dict:
    """Return a device as the API shows it: DeviceSerializer's representation, written out.

    Every registration answers with its device, and DRF's walk over the serializer's fields cost
    it about 40 µs of a 1 ms request; tests/test_registration_fast_path.py keeps the two equal.
    """
    return {
        "install_id": str(device.install_id),
        "platform": device.platform,
        "push_token": device.push_token,
        "channel_uri": device.channel_uri,
        "channel_expires_at": _moment(device.channel_expires_at),
        "user_id": device.user_id,
        "account_id": device.account_id,
        "locale": device.locale,
        "time_zone": device.time_zone,
        "properties": {
            "appVersion": device.app_version,
            "carrierCountry": device.carrier_country,
            "deviceOsVersion": device.device_os_version,
            "osApiLevel": device.os_api_level,
            "model": device.device_model,
            "oemName": device.oem_name,
            "screenSize": device.screen_size,
        },
        "custom_properties": {str(name): value for name, value in device.custom_properties.items()},
        "push_enabled": device.push_enabled,
        "categories": [str(category) for category in device.categories],
        "status": str(device.status),
        "first_seen": _moment(device.first_seen),
        "last_seen": _moment(device.last_seen),
    }


def _moment(value: datetime | None) -> str | None:
    """Write a moment as DRF's DateTimeField does: ISO 8601 in the current zone, UTC as Z."""
    if value is None:
        return None
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class DeviceUserSerializer(StrictSerializer):
    """The body of PUT …/devices/{install_id}/user: a user id, or null to clear it."""

    user_id = TextField(allow_null=True, max_length=256)

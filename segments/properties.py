"""The properties a segment filters on: App Center's built-in names and an app's custom ones."""

from __future__ import annotations

from typing import NamedTuple

CUSTOM_TYPES = ("string", "number", "boolean", "datetime")


class PropertyInfo(NamedTuple):
    """A property as the segment page lists it beside the definition."""

    name: str
    type: str
    description: str


class Column(NamedTuple):
    """Where a built-in property lives on Device.

    `compared` holds the value a comparison reads; `reported` is the column whose '' or NULL
    means the device did not report the property (they differ for versions, which compare by
    their sortable key).
    """

    compared: str
    reported: str


def _same(column: str) -> Column:
    return Column(column, column)


# name, type, description (what a marketer sees), and where the value lives.
# fmt: off
_BUILT_INS = [
    ("appVersion", "version", "The app's version, such as '2.10.1'.",
     Column("app_version_key", "app_version")),
    ("deviceOsVersion", "version", "The operating system's version, such as '17.2'.",
     Column("device_os_version_key", "device_os_version")),
    ("carrierCountry", "string", "The carrier's ISO country code, such as 'US'.",
     _same("carrier_country")),
    ("osApiLevel", "number", "The Android API level, such as 34.", _same("os_api_level")),
    ("model", "string", "The device model, such as 'iPhone15,2'.", _same("device_model")),
    ("oemName", "string", "The manufacturer, such as 'Samsung'.", _same("oem_name")),
    ("screenSize", "string", "The screen size in pixels, such as '1170x2532'.",
     _same("screen_size")),
    ("userId", "string", "The user id the app set for the install.", _same("user_id")),
    ("platform", "string", "'ios', 'android' or 'windows'.", _same("platform")),
    ("locale", "string", "The BCP 47 locale, such as 'en-US'.", _same("locale")),
    ("language", "string", "The locale's language, such as 'en'.", _same("language")),
    ("timeZone", "string", "The IANA time zone, such as 'Europe/Paris'.", _same("time_zone")),
    ("firstSeen", "datetime", "When the install first registered.", _same("first_seen")),
    ("lastSeen", "datetime", "When the install last registered or changed.",
     _same("last_seen")),
    ("pushEnabled", "boolean", "Whether the user allows notifications.",
     _same("push_enabled")),
    ("categories", "list", "The notification categories the user chose: "
     "categories contains 'offers', exists(categories).", _same("categories")),
]
# fmt: on

BUILT_IN_PROPERTIES: list[PropertyInfo] = [
    PropertyInfo(name, kind, description) for name, kind, description, _ in _BUILT_INS
]
BUILT_IN_COLUMNS: dict[str, Column] = {name: column for name, _, _, column in _BUILT_INS}
_BUILT_IN_BY_NAME = {info.name: info for info in BUILT_IN_PROPERTIES}


def custom_properties(custom_property_types: dict[str, str]) -> list[PropertyInfo]:
    """List an app's custom properties; a built-in name or an unknown type is left out."""
    return [
        PropertyInfo(name, kind, f"A custom {kind} property.")
        for name, kind in custom_property_types.items()
        if isinstance(name, str) and kind in CUSTOM_TYPES and name not in _BUILT_IN_BY_NAME
    ]


def available_properties(custom_property_types: dict[str, str]) -> list[PropertyInfo]:
    """List the built-in and custom properties a definition may use, sorted by name."""
    every = BUILT_IN_PROPERTIES + custom_properties(custom_property_types)
    return sorted(every, key=lambda info: (info.name.casefold(), info.name))


def find_property(name: str, custom_property_types: dict[str, str]) -> PropertyInfo | None:
    """Return the property a definition names, built-ins first; None if there is none."""
    if name in _BUILT_IN_BY_NAME:
        return _BUILT_IN_BY_NAME[name]
    kind = custom_property_types.get(name)
    return None if kind is None else PropertyInfo(name, str(kind), "")

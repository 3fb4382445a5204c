"""A sent notification's lists and structures as its read-only page shows them: in words.

Each display is a ModelAdmin method (it takes the notification); SHOWN_AS says which display
stands in for which field.
"""

from __future__ import annotations

from django.contrib import admin

from campaigns.models import Notification
from devices.models import Platform

PLATFORM_NAMES = dict(Platform.choices)
SHOWN_AS = {
    "platforms": "platforms_in_words",
    "install_ids": "install_ids_in_words",
    "user_ids": "user_ids_in_words",
    "account_ids": "account_ids_in_words",
    "filter_languages": "filter_languages_in_words",
    "filter_time_zones": "filter_time_zones_in_words",
    "custom_data": "custom_data_in_words",
    "inputs": "inputs_in_words",
    "actions": "actions_in_words",
    "tile_bindings": "tile_bindings_in_words",
}


def _listed(values: list) -> str:
    return ", ".join(str(value) for value in values) or "-"


@admin.display(description="Platforms")
def platforms(_admin: object, notification: Notification) -> str:
    return _listed([PLATFORM_NAMES.get(p, p) for p in notification.platforms])


@admin.display(description="Install IDs")
def install_ids(_admin: object, notification: Notification) -> str:
    return _listed(notification.install_ids)


@admin.display(description="User IDs")
def user_ids(_admin: object, notification: Notification) -> str:
    return _listed(notification.user_ids)


@admin.display(description="Account IDs")
def account_ids(_admin: object, notification: Notification) -> str:
    return _listed(notification.account_ids)


@admin.display(description="Only these languages")
def filter_languages(_admin: object, notification: Notification) -> str:
    return _listed(notification.filter_languages)


@admin.display(description="Only these time zones")
def filter_time_zones(_admin: object, notification: Notification) -> str:
    return _listed(notification.filter_time_zones)


@admin.display(description="Custom data")
def custom_data(_admin: object, notification: Notification) -> str:
    return _listed(f"{key} = {value}" for key, value in notification.custom_data.items())


@admin.display(description="Inputs")
def inputs(_admin: object, notification: Notification) -> str:
    return _listed(
        f"{item.get('type', 'text')} input {item.get('id')!r}"
        + (f" “{item['placeholder']}”" if item.get("placeholder") else "")
        for item in notification.inputs
    )


@admin.display(description="Actions")
def actions(_admin: object, notification: Notification) -> str:
    return _listed(
        f"button “{item.get('content')}” ({item.get('activation_type', 'foreground')}: "
        f"{item.get('arguments')})"
        for item in notification.actions
    )


@admin.display(description="Tile bindings")
def tile_bindings(_admin: object, notification: Notification) -> str:
    return _listed(
        f"{item.get('size')} tile: " + (" / ".join(item.get("texts") or []) or "no text")
        for item in notification.tile_bindings
    )

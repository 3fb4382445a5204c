"""The templates a notification starts from: what each fills in, and the links it opens.

Store links use the app's identifiers when the app page has them; otherwise they hold a
{PLACEHOLDER} the marketer must replace before the notification saves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from campaigns.models import ActivationType, OnClick, TargetKind, Template
from devices.models import MobileApp, Platform

# A single-brace placeholder such as {PACKAGE_FAMILY_NAME}; {{ tokens }} are personalization.
PLACEHOLDER_RE = re.compile(r"(?<!\{)\{(?!\{)[^{}]+\}(?!\})")

STORE_UPDATES = "ms-windows-store://downloadsandupdates"


@dataclass(frozen=True)
class NotificationTemplate:
    key: str
    label: str
    description: str
    platforms: tuple[str, ...]
    values: dict[str, object] = field(default_factory=dict)


def _windows_product(product_id: str) -> str:
    return f"ms-windows-store://pdp/?ProductId={product_id}"


def _app_store(app_store_id: str, review: bool = False) -> str:
    link = f"https://apps.apple.com/app/id{app_store_id}"
    return f"{link}?action=write-review" if review else link


def _google_play(package: str) -> str:
    return f"https://play.google.com/store/apps/details?id={package}"


def _ids(app: MobileApp | None) -> dict[str, str]:
    """Return the app's store identifiers, or the placeholders that stand for them."""
    wns = getattr(app, "wns_credential", None) if app else None
    return {
        "product": (app and app.store_product_id) or "{Microsoft Store ID}",
        "pfn": (wns and wns.package_family_name) or "{PACKAGE_FAMILY_NAME}",
        "app_store": (app and app.app_store_id) or "{App Store ID}",
        "play": (app and app.play_package_name) or "{Google Play package name}",
    }


def _store_links(ids: dict[str, str], review: bool = False) -> dict[str, object]:
    return {
        "activation_type": ActivationType.PROTOCOL,
        "launch": f"ms-windows-store://review/?ProductId={ids['product']}"
        if review
        else _windows_product(ids["product"]),
        "on_click": OnClick.URL,
        "ios_url": _app_store(ids["app_store"], review=review),
        "android_url": _google_play(ids["play"]),
    }


def catalogue(app: MobileApp | None = None) -> list[NotificationTemplate]:
    """Return every template, its links filled in with the app's identifiers where known."""
    ids = _ids(app)
    other = "{ProductId you want to promote here}"
    return [
        NotificationTemplate(
            Template.STANDARD,
            Template.STANDARD.label,
            "A title, subtitle and message for iOS, Android and Windows; tapping it opens the "
            "app, a URL or a deep link.",
            ("ios", "android", "windows"),
        ),
        NotificationTemplate(
            Template.TOAST,
            Template.TOAST.label,
            "An empty Windows toast to customize: a pop-up over whatever the customer is doing.",
            ("windows",),
        ),
        NotificationTemplate(
            Template.TILE,
            Template.TILE.label,
            "An empty Windows live-tile update, one binding per tile size.",
            ("windows",),
            {"tile_bindings": [{"size": "medium", "texts": [""]}, {"size": "wide", "texts": [""]}]},
        ),
        NotificationTemplate(
            Template.RATINGS,
            Template.RATINGS.label,
            "Asks customers to rate the app; a tap opens the store's ratings page.",
            ("ios", "android", "windows"),
            {
                "title": "Enjoying the app?",
                "body": "Tell us what you think: rate it in the store.",
                **_store_links(ids, review=True),
            },
        ),
        NotificationTemplate(
            Template.FEEDBACK,
            Template.FEEDBACK.label,
            "Asks customers for feedback; a tap opens the app's page in Feedback Hub (Windows).",
            ("windows",),
            {
                "title": "Help us improve",
                "body": "Tell us what works and what doesn't in Feedback Hub.",
                "activation_type": ActivationType.PROTOCOL,
                "launch": f"feedback-hub:?tabid=2&appid={ids['pfn']}!App",
            },
        ),
        NotificationTemplate(
            Template.CROSS_PROMOTE,
            Template.CROSS_PROMOTE.label,
            "Promotes another app; a tap opens its store page.",
            ("ios", "android", "windows"),
            {
                "title": "You might also like",
                "body": "Try our other app.",
                "activation_type": ActivationType.PROTOCOL,
                "launch": _windows_product(other),
                "on_click": OnClick.URL,
                "ios_url": _app_store("{App Store ID you want to promote here}"),
                "android_url": _google_play("{package name you want to promote here}"),
            },
        ),
        NotificationTemplate(
            Template.SALE,
            Template.SALE.label,
            "Announces a deal; a tap opens the app's store page.",
            ("ios", "android", "windows"),
            {"title": "On sale now", "body": "Save on a limited-time deal.", **_store_links(ids)},
        ),
        NotificationTemplate(
            Template.UPDATE,
            Template.UPDATE.label,
            "Asks customers on an older version to update; needs no segment: it targets the "
            "devices below the app's latest version.",
            ("ios", "android", "windows"),
            {
                "title": "A new version is here",
                "body": "Update now to get the latest features and fixes.",
                "target_kind": TargetKind.OUTDATED,
                "activation_type": ActivationType.PROTOCOL,
                "launch": STORE_UPDATES,
                "on_click": OnClick.URL,
                "ios_url": _app_store(ids["app_store"]),
                "android_url": _google_play(ids["play"]),
            },
        ),
        NotificationTemplate(
            Template.SILENT,
            Template.SILENT.label,
            "Custom data for the app to act on, shown to no one: an APNs background push, an "
            "FCM data message, a WNS raw notification. Apple throttles background pushes (a "
            "few an hour) and delivers none to an app the user force-quit.",
            ("ios", "android", "windows"),
            {"priority": "normal", "track_launches": False},
        ),
        NotificationTemplate(
            Template.BADGE,
            Template.BADGE.label,
            "Sets the number on the app icon and nothing else; 0 clears it. Windows may show a "
            "glyph instead; Android apps set the badge from the data.",
            ("ios", "android", "windows"),
            {"badge": 0, "track_launches": False},
        ),
    ]


def unavailable(template: NotificationTemplate, app: MobileApp | None) -> str:
    """Say why the app cannot use a template ("" when it can): it has none of its platforms."""
    if app is None or set(template.platforms) & set(app.platforms()):
        return ""
    needed = " or ".join(Platform(p).label for p in template.platforms)
    return f"Needs {needed} credentials: add them on the app's page."


def find(key: str, app: MobileApp | None = None) -> NotificationTemplate | None:
    """Return the template with that key, or None."""
    return next((t for t in catalogue(app) if t.key == key), None)


def placeholders(value: str) -> list[str]:
    """List the {PLACEHOLDER}s still in a value."""
    return PLACEHOLDER_RE.findall(value or "")

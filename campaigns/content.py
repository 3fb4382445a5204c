"""A notification's content for one device: its language, its personalized text, its links."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from campaigns import personalization, windows_texts
from campaigns.models import TEXT_FIELDS, Notification, OnClick, Template
from devices.providers.message import (
    Message,
    TileBinding,
    ToastAction,
    ToastInput,
    WindowsOptions,
)

NO_WINDOWS_PARTS: dict[str, tuple] = {"inputs": (), "actions": (), "tile_bindings": ()}
# Templates whose messages show no alert: their text, links and launch tracking are not sent.
SHOWS_NOTHING = (Template.SILENT, Template.BADGE)
# Chinese locales name a region more often than a script; these regions read Traditional.
_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}


def language_candidates(locale: str) -> list[str]:
    """Return the content languages to try for a locale, most specific first.

    'fr-CA' -> ['fr-ca', 'fr']; 'zh-Hant-TW' -> ['zh-hant-tw', 'zh-hant', 'zh'];
    'zh-TW' -> ['zh-tw', 'zh-hant', 'zh']; 'pt-BR' -> ['pt-br', 'pt'].
    """
    parts = locale.strip().replace("_", "-").lower().split("-")
    if not parts[0]:
        return []
    candidates = ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]
    if parts[0] == "zh":
        script = "zh-hant" if _TRADITIONAL_REGIONS & set(parts[1:]) else "zh-hans"
        if script not in candidates:
            candidates.insert(-1, script)
    if parts[0] == "no":
        candidates.append("nb")
    return candidates


def language_for(notification: Notification, locale: str) -> str:
    """Return a device's content language: its locale's, else its language's, else the default."""
    available = notification.content_languages()
    for candidate in language_candidates(locale):
        if candidate in available:
            return candidate
    return notification.default_language


def texts(notification: Notification, language: str) -> dict[str, str]:
    """Return the text fields as written in one language (a missing field stays empty)."""
    return {field: notification.text(field, language) for field in TEXT_FIELDS}


def personalize(values: dict[str, str], context: dict | None) -> dict[str, str]:
    """Render the personalization tokens of each text for one device's context."""
    if context is None:
        return values
    return {
        name: personalization.render_text(value, context)
        if personalization.has_tokens(value)
        else value
        for name, value in values.items()
    }


def is_personal(notification: Notification) -> bool:
    """Tell whether any text it shows, in any language, reads a device's or an event's values."""
    shown = []
    for language in notification.content_languages():
        shown.extend(texts(notification, language).values())
        shown.extend(windows_texts.texts(notification, language).values())
    return any(personalization.has_tokens(text) for text in shown)


def platform_url(notification: Notification, platform: str) -> str:
    """Return what a tap opens on iOS or Android: '' opens the app."""
    if notification.on_click == OnClick.APP:
        return ""
    own = {"ios": notification.ios_url, "android": notification.android_url}.get(platform, "")
    return own or notification.url


def windows_options(
    notification: Notification, language: str = "", context: dict | None = None
) -> WindowsOptions:
    """Return the Windows toast and tile options in one language (the default one unless told),
    their texts personalized for one device's context, as the payload renderer takes them."""
    parts = _windows_parts(notification, language, context)
    return WindowsOptions(
        activation_type=notification.activation_type,
        launch=notification.launch,
        duration=notification.duration,
        scenario=notification.scenario,
        base_uri=notification.base_uri,
        add_image_query=notification.add_image_query,
        image=notification.windows_image,
        audio=notification.audio,
        audio_loop=notification.audio_loop,
        audio_silent=notification.audio_silent,
        inputs=tuple(_toast_input(i) for i in parts["inputs"]),
        actions=tuple(_toast_action(a) for a in parts["actions"]),
        tiles=tuple(_tile(t) for t in parts["tile_bindings"]),
    )


def _windows_parts(notification: Notification, language: str, context: dict | None) -> Mapping:
    """Return the inputs, actions and tile bindings in one language, personalized."""
    if not (notification.inputs or notification.actions or notification.tile_bindings):
        return NO_WINDOWS_PARTS  # most toasts have none: nothing to look up per device
    shown = personalize(windows_texts.texts(notification, language), context)
    return windows_texts.localized(notification, shown)


def message(
    notification: Notification,
    platform: str,
    language: str,
    *,
    context: dict | None = None,
    tracking_id: str = "",
    expires_at: datetime | None = None,
) -> Message:
    """Return the content one device receives, ready for its platform's payload renderer."""
    kind = _kind(notification, platform)
    if kind in SHOWS_NOTHING:
        return _unseen_message(notification, kind, expires_at)
    text = personalize(texts(notification, language), context)
    return Message(
        kind=kind,
        title=text["title"],
        subtitle=text["subtitle"],
        body=text["body"],
        image_url=notification.image_url,
        sound=notification.sound,
        badge=notification.badge,
        custom_data=_custom_data(notification),
        url=platform_url(notification, platform),
        tracking_id=tracking_id if notification.track_launches else "",
        expires_at=expires_at or notification.expires_at,
        collapse_id=notification.collapse_id,
        priority=notification.priority,
        thread_id=notification.thread_id,
        ios_category=notification.ios_category,
        interruption_level=notification.interruption_level,
        relevance_score=notification.relevance_score,
        android_channel=notification.android_channel,
        android_click_action=notification.android_click_action,
        android_tag=notification.android_tag,
        # Only Windows reads these; building them per phone message would be wasted work.
        windows=windows_options(notification, language, context)
        if platform == "windows"
        else WindowsOptions(),
    )


def _unseen_message(notification: Notification, kind: str, expires_at: datetime | None) -> Message:
    """Return a silent or badge-only message: no text, and no launch to track: no one taps it."""
    return Message(
        kind=kind,
        badge=notification.badge if kind == "badge" else None,
        badge_glyph=notification.badge_glyph if kind == "badge" else "",
        custom_data=_custom_data(notification),
        expires_at=expires_at or notification.expires_at,
        collapse_id=notification.collapse_id,
        priority=notification.priority,
    )


def _custom_data(notification: Notification) -> dict[str, str]:
    return {str(k): str(v) for k, v in notification.custom_data.items()}


def _kind(notification: Notification, platform: str) -> str:
    if notification.template in SHOWS_NOTHING:
        return notification.template
    if platform != "windows":
        return "standard"
    return "tile" if notification.template == Template.TILE else "toast"


def _toast_input(item: dict) -> ToastInput:
    return ToastInput(
        id=item["id"],
        type=item.get("type", "text"),
        title=item.get("title", ""),
        placeholder=item.get("placeholder", ""),
        default=item.get("default", ""),
        selections=tuple((s["id"], s["content"]) for s in item.get("selections", [])),
    )


def _toast_action(item: dict) -> ToastAction:
    return ToastAction(
        content=item["content"],
        arguments=item["arguments"],
        activation_type=item.get("activation_type", "foreground"),
        input_id=item.get("input_id", ""),
        image_uri=item.get("image_uri", ""),
    )


def _tile(item: dict) -> TileBinding:
    return TileBinding(
        size=item["size"], texts=tuple(item.get("texts", [])), image=item.get("image", "")
    )

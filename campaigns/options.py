"""The rules each notification option follows; every error names the rule it broke."""

from __future__ import annotations

import re
import uuid
import zoneinfo
from urllib.parse import SplitResult, urlsplit

from django.core.exceptions import ValidationError

from devices.models import MobileApp
from devices.providers.wns import TAG_RULE, is_valid_tag

# Links a tap may open besides https: the stores and Feedback Hub.
STORE_SCHEMES = ("itms-apps", "itms-appss", "market", "ms-windows-store", "feedback-hub")
# Windows resolves these against the app package or its data; they never leave the device.
WINDOWS_RESOURCE_SCHEMES = ("ms-appx", "ms-appdata")
SOUND_RE = re.compile(r"^(default|[A-Za-z0-9_-]{1,60}\.(caf|aiff|wav|mp3|ogg))$")
WINDOWS_SOUNDS = (
    "ms-winsoundevent:Notification.Default",
    "ms-winsoundevent:Notification.IM",
    "ms-winsoundevent:Notification.Mail",
    "ms-winsoundevent:Notification.Reminder",
    "ms-winsoundevent:Notification.SMS",
    *(f"ms-winsoundevent:Notification.Looping.Alarm{n}" for n in ("", *range(2, 11))),
    *(f"ms-winsoundevent:Notification.Looping.Call{n}" for n in ("", *range(2, 11))),
)
IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
CUSTOM_KEY_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Keys the payloads use themselves, or that FCM refuses in data.
RESERVED_KEYS = (
    "aps",
    "tracking_id",
    "url",
    "image_url",
    "subtitle",
    "from",
    "message_type",
    "notification",
)
RESERVED_KEY_PREFIXES = ("google", "gcm")
CUSTOM_VALUE_WARNING = 100  # App Center's cap per value; long values cost payload bytes.
MAX_CUSTOM_DATA = 50
MAX_IDS = 10_000
MAX_TOAST_ITEMS = 5
TILE_SIZES = ("small", "medium", "wide", "large")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")
# A DNS name or IPv4 address in ASCII: labels of letters, digits and inner hyphens.
WEB_HOST_RE = re.compile(
    r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?\Z"
)


def check_url(value: str, allowed: tuple[str, ...], what: str = "A link") -> None:
    """Raise unless the value is an absolute URL with one of the allowed schemes."""
    try:
        parts = urlsplit(value)
    except ValueError:  # such as brackets that hold no IPv6 address: https://[x]/
        raise ValidationError(f"{what} is not a well-formed URL; check its host.") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise ValidationError(f"{what} must be an absolute URL, such as https://example.com/.")
    if scheme not in allowed:
        raise ValidationError(f"{what} may use {_names(allowed)}; not {scheme}:.")
    if scheme in ("https", "http"):
        _check_web_address(parts, what)
    if any(c.isspace() for c in value):
        raise ValidationError(f"{what} may not contain spaces; encode them as %20.")


def _check_web_address(parts: SplitResult, what: str) -> None:
    """Require a host by DNS name or IP address and a port in ASCII digits (RFC 3986 §3.2)."""
    host = parts.hostname
    if not host:
        raise ValidationError(f"{what} needs a host after https://.")
    if ":" not in host and not WEB_HOST_RE.match(host):
        raise ValidationError(
            f"{what} has a host that is not a domain name; write an international name in "
            "its ASCII form (xn--…)."
        )
    try:
        parts.port  # noqa: B018 - reading it is the check: it raises for a port that is not one
    except ValueError:
        raise ValidationError(f"{what} has a port that is not a number from 0 to 65535.") from None


def link_schemes(app: MobileApp, deep_link: bool = False) -> tuple[str, ...]:
    """Return the schemes a tap may open: the app's own for a deep link, else https and stores."""
    if deep_link:
        if not app.deep_link_scheme:
            raise ValidationError(
                "Set the app's deep-link scheme on its page before linking into the app."
            )
        return (app.deep_link_scheme,)
    own = (app.deep_link_scheme,) if app.deep_link_scheme else ()
    return ("https", *STORE_SCHEMES, *own)


def check_sound(value: str) -> None:
    if value and not SOUND_RE.match(value):
        raise ValidationError(
            "Use 'default' or a sound file bundled with the app, such as chime.caf "
            "(.caf, .aiff, .wav, .mp3 or .ogg)."
        )


def check_identifier(value: str, what: str) -> None:
    """Refuse an identifier the providers would not take as a header or key."""
    if value and not IDENTIFIER_RE.match(value):
        raise ValidationError(f"{what} may hold only letters, digits, '_', '.' and '-'.")


def check_wns_tag(value: str, what: str) -> None:
    """Refuse a value WNS would not take as X-WNS-Tag (it would answer 400 for the whole push)."""
    if value and not is_valid_tag(value):
        raise ValidationError(
            f"{what} is sent to Windows as X-WNS-Tag, which WNS takes as {TAG_RULE}."
        )


def check_windows_audio(value: str) -> None:
    if value and value not in WINDOWS_SOUNDS and not value.startswith("ms-appx:///"):
        raise ValidationError(
            "Use a Windows sound such as ms-winsoundevent:Notification.Default, or a file in "
            "the app package (ms-appx:///...)."
        )


def custom_data(value: object) -> tuple[dict[str, str], list[str]]:
    """Return the custom data as strings and the warnings about it; raise on a broken rule."""
    if not isinstance(value, dict):
        raise ValidationError('Custom data must be a JSON object such as {"screen": "offers"}.')
    if len(value) > MAX_CUSTOM_DATA:
        raise ValidationError(f"Custom data may hold at most {MAX_CUSTOM_DATA} keys.")
    data, warnings = {}, []
    for key, item in value.items():
        _check_custom_key(key)
        if isinstance(item, dict | list) or item is None:
            raise ValidationError(f"Custom data {key!r} must be text, a number or true/false.")
        text = str(item).lower() if isinstance(item, bool) else str(item)
        if len(text) > CUSTOM_VALUE_WARNING:
            warnings.append(
                f"Custom data {key!r} is {len(text)} characters; App Center capped values at "
                f"{CUSTOM_VALUE_WARNING}, and every character counts against the payload limit."
            )
        data[key] = text
    return data, warnings


def _check_custom_key(key: str) -> None:
    if not CUSTOM_KEY_RE.match(key):
        raise ValidationError(
            f"Custom data key {key!r} must be 1 to 64 letters, digits, '_', '.' or '-'."
        )
    # FCM refuses any key that starts with google or gcm, in any case (fcm.render does too).
    if key in RESERVED_KEYS or key.lower().startswith(RESERVED_KEY_PREFIXES):
        raise ValidationError(f"Custom data key {key!r} is reserved by the payloads.")


def install_ids(text: str) -> list[str]:
    """Read one install ID (a UUID) per line or comma."""
    ids = []
    for number, item in enumerate(_items(text), start=1):
        try:
            ids.append(str(uuid.UUID(item)))
        except ValueError:
            raise ValidationError(
                f"Entry {number} ({item[:40]!r}) is not an install ID; install IDs are UUIDs."
            ) from None
    return _capped(list(dict.fromkeys(ids)), "install IDs")


def user_ids(text: str, what: str = "user") -> list[str]:
    """Read one user (or account) ID per line."""
    ids = [line.strip() for line in text.splitlines() if line.strip()]
    for number, item in enumerate(ids, start=1):
        if len(item) > 256:
            raise ValidationError(f"{what.capitalize()} ID {number} is longer than 256 characters.")
    return _capped(list(dict.fromkeys(ids)), f"{what} IDs")


def time_zones(text: str) -> list[str]:
    """Read IANA time-zone names, one per line or comma."""
    known = zoneinfo.available_timezones()
    zones = list(dict.fromkeys(_items(text)))
    for zone in zones:
        if zone not in known:
            raise ValidationError(f"{zone!r} is not an IANA time zone such as Europe/Paris.")
    return zones


def languages(text: str) -> list[str]:
    """Read language codes (two or three letters, as devices report them)."""
    codes = list(dict.fromkeys(item.lower() for item in _items(text)))
    for code in codes:
        if not LANGUAGE_RE.match(code):
            raise ValidationError(f"{code!r} is not a language code such as fr or de.")
    return codes


def _items(text: str) -> list[str]:
    return [item.strip() for item in re.split(r"[\s,]+", text) if item.strip()]


def _capped(ids: list[str], what: str) -> list[str]:
    if len(ids) > MAX_IDS:
        raise ValidationError(
            f"At most {MAX_IDS:,} {what} a notification; target a segment instead."
        )
    return ids


def _names(schemes: tuple[str, ...]) -> str:
    return ", ".join(f"{s}:" for s in schemes)


def toast_inputs(value: object) -> list[dict]:
    """Check the toast's inputs: [{"id", "type": text|selection, "title", "placeholder",
    "default", "selections": [{"id", "content"}]}]."""
    items = _list_of_objects(value, "Inputs", MAX_TOAST_ITEMS)
    seen = set()
    for number, item in enumerate(items, start=1):
        _only_keys(
            item, f"Input {number}", ("id", "type", "title", "placeholder", "default", "selections")
        )
        _text(item, "id", f"Input {number}", required=True)
        if item["id"] in seen:
            raise ValidationError(f"Input {number}: the id {item['id']!r} is used twice.")
        seen.add(item["id"])
        if item.setdefault("type", "text") not in ("text", "selection"):
            raise ValidationError(f"Input {number}: type must be text or selection.")
        for key in ("title", "placeholder", "default"):
            _text(item, key, f"Input {number}")
        _selections(item, f"Input {number}")
    return items


def _selections(item: dict, where: str) -> None:
    choices = item.setdefault("selections", [])
    if item["type"] == "text":
        if choices:
            raise ValidationError(f"{where}: only a selection input has selections.")
        return
    choices = _list_of_objects(choices, f"{where} selections", MAX_TOAST_ITEMS)
    if not choices:
        raise ValidationError(f"{where}: a selection input needs at least one selection.")
    for number, choice in enumerate(choices, start=1):
        _only_keys(choice, f"{where} selection {number}", ("id", "content"))
        _text(choice, "id", f"{where} selection {number}", required=True)
        _text(choice, "content", f"{where} selection {number}", required=True)


def toast_actions(value: object, input_ids: set[str]) -> list[dict]:
    """Check the toast's buttons: [{"content", "arguments", "activation_type", "input_id",
    "image_uri"}]."""
    items = _list_of_objects(value, "Actions", MAX_TOAST_ITEMS)
    for number, item in enumerate(items, start=1):
        where = f"Action {number}"
        _only_keys(
            item, where, ("content", "arguments", "activation_type", "input_id", "image_uri")
        )
        _text(item, "content", where, required=True)
        _text(item, "arguments", where, required=True)
        kind = item.setdefault("activation_type", "foreground")
        if kind not in ("foreground", "background", "protocol"):
            raise ValidationError(
                f"{where}: activation_type must be foreground, background or protocol."
            )
        if kind == "protocol":
            check_url(item["arguments"], ("https", *STORE_SCHEMES), f"{where}'s arguments")
        if item.get("input_id") and item["input_id"] not in input_ids:
            raise ValidationError(f"{where}: input_id {item['input_id']!r} names no input.")
        if item.get("image_uri"):
            check_url(
                item["image_uri"], ("https", *WINDOWS_RESOURCE_SCHEMES), f"{where}'s image_uri"
            )
    return items


def tile_bindings(value: object) -> list[dict]:
    """Check the tile's bindings: [{"size": small|medium|wide|large, "texts": [...], "image"}]."""
    items = _list_of_objects(value, "Tile bindings", len(TILE_SIZES))
    sizes = set()
    for number, item in enumerate(items, start=1):
        where = f"Tile binding {number}"
        _only_keys(item, where, ("size", "texts", "image"))
        if item.get("size") not in TILE_SIZES:
            raise ValidationError(f"{where}: size must be one of {', '.join(TILE_SIZES)}.")
        if item["size"] in sizes:
            raise ValidationError(f"{where}: there is already a {item['size']} binding.")
        sizes.add(item["size"])
        texts = item.setdefault("texts", [])
        if (
            not isinstance(texts, list)
            or len(texts) > 4
            or not all(isinstance(t, str) for t in texts)
        ):
            raise ValidationError(f"{where}: texts must be a list of at most 4 texts.")
        if item.get("image"):
            check_url(item["image"], ("https", *WINDOWS_RESOURCE_SCHEMES), f"{where}'s image")
    return items


def _list_of_objects(value: object, what: str, limit: int) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
        raise ValidationError(f"{what} must be a JSON list of objects.")
    if len(value) > limit:
        raise ValidationError(f"{what}: at most {limit}.")
    return value


def _only_keys(item: dict, where: str, keys: tuple[str, ...]) -> None:
    unknown = sorted(set(item) - set(keys))
    if unknown:
        raise ValidationError(f"{where}: unknown key {unknown[0]!r}; use {', '.join(keys)}.")


def _text(item: dict, key: str, where: str, required: bool = False) -> None:
    value = item.get(key, "")
    if not isinstance(value, str) or len(value) > 200:
        raise ValidationError(f"{where}: {key} must be text of at most 200 characters.")
    if required and not value.strip():
        raise ValidationError(f"{where}: {key} is required.")

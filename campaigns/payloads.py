"""Render one notification into the bytes and headers APNs, FCM and WNS each expect.

The shapes follow the providers' documentation:

- APNs: the JSON payload (``aps`` with an ``alert`` dictionary, custom keys beside it) and the
  ``apns-push-type``, ``apns-priority`` and ``apns-expiration`` request headers. The sender adds
  the device token and ``apns-topic``.
- FCM: the HTTP v1 ``messages:send`` body, ``{"message": {...}}``, whose ``data`` values are all
  strings and whose ``android.ttl`` is a duration such as ``"3600s"``.
- WNS: adaptive toast XML (``binding template="ToastGeneric"``) or tile XML (one binding per
  tile size), sent as ``text/xml`` with ``X-WNS-Type`` and ``X-WNS-TTL``.

Nothing here touches the network or the database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote
from xml.etree import ElementTree

from devices.providers.wns import is_valid_tag

APNS_LIMIT = 4096
FCM_LIMIT = 4096
# Microsoft's "Push notification service request and response headers": WNS answers
# 413 "The notification payload exceeds the 5000 byte size limit." (5,000, not 5 KiB).
WNS_LIMIT = 5000

KINDS = ("standard", "toast", "tile")
ACTIVATION_TYPES = ("foreground", "background", "protocol")
DURATIONS = ("short", "long")
SCENARIOS = ("default", "alarm", "reminder", "incomingCall")
INPUT_TYPES = ("text", "selection")
TILE_TEMPLATES = {
    "small": "TileSmall",
    "medium": "TileMedium",
    "wide": "TileWide",
    "large": "TileLarge",
}
SERVICE_NAMES = {"ios": "APNs", "android": "FCM", "windows": "WNS"}

# Keys we set ourselves: the apps read them, so custom data must not be able to forge them
# (a forged tracking_id would credit a launch to another notification).
APNS_OWN_KEYS = frozenset({"tracking_id", "url", "image_url"})
FCM_OWN_KEYS = frozenset({"tracking_id", "url", "subtitle"})
# FCM answers INVALID_ARGUMENT for these data keys; refusing them here says which key it was.
FCM_RESERVED_KEYS = frozenset({"from", "notification", "message_type"})
FCM_RESERVED_PREFIXES = ("google", "gcm")
# FCM keeps a message at most four weeks; a longer ttl is refused.
FCM_MAX_TTL_SECONDS = 28 * 24 * 3600

# Characters XML 1.0 cannot carry even escaped; left in, they make WNS reject the whole document.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _require_choice(option: str, value: str, allowed: Iterable[str]) -> None:
    """Refuse a value outside an enumerated option, naming the option and what it accepts."""
    allowed = tuple(allowed)
    if value not in allowed:
        choices = ", ".join(repr(choice) for choice in allowed)
        raise ValueError(f"{option} must be one of {choices}; got {value!r}.")


@dataclass(frozen=True)
class ToastInput:
    """An input box or a selection list on a Windows toast."""

    id: str
    type: str = "text"
    title: str = ""
    placeholder: str = ""
    default: str = ""
    selections: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        _require_choice("ToastInput.type", self.type, INPUT_TYPES)


@dataclass(frozen=True)
class ToastAction:
    """A button on a Windows toast."""

    content: str
    arguments: str
    activation_type: str = "foreground"
    input_id: str = ""
    image_uri: str = ""

    def __post_init__(self) -> None:
        _require_choice("ToastAction.activation_type", self.activation_type, ACTIVATION_TYPES)


@dataclass(frozen=True)
class TileBinding:
    """One tile size's content."""

    size: str
    texts: tuple[str, ...] = ()
    image: str = ""

    def __post_init__(self) -> None:
        _require_choice("TileBinding.size", self.size, TILE_TEMPLATES)


@dataclass(frozen=True)
class WindowsOptions:
    """What only a Windows toast or tile can show."""

    activation_type: str = "foreground"
    launch: str = ""
    duration: str = "short"
    scenario: str = "default"
    base_uri: str = ""
    add_image_query: bool = False
    image: str = ""
    audio: str = ""
    audio_loop: bool = False
    audio_silent: bool = False
    inputs: tuple[ToastInput, ...] = ()
    actions: tuple[ToastAction, ...] = ()
    tiles: tuple[TileBinding, ...] = ()

    def __post_init__(self) -> None:
        _require_choice("WindowsOptions.activation_type", self.activation_type, ACTIVATION_TYPES)
        _require_choice("WindowsOptions.duration", self.duration, DURATIONS)
        _require_choice("WindowsOptions.scenario", self.scenario, SCENARIOS)


@dataclass(frozen=True)
class Message:
    """One notification's content resolved for one language (and, when sending, one device)."""

    kind: str = "standard"
    title: str = ""
    subtitle: str = ""
    body: str = ""
    image_url: str = ""
    sound: str = ""
    badge: int | None = None
    custom_data: dict[str, str] = field(default_factory=dict)
    url: str = ""
    tracking_id: str = ""
    expires_at: datetime | None = None
    # A newer message with the same collapse id replaces an undelivered or shown older one:
    # apns-collapse-id, FCM's android.collapse_key, a Windows tile's X-WNS-Tag.
    collapse_id: str = ""
    android_channel: str = ""  # the Android notification channel the app created
    android_click_action: str = ""  # the intent action an activity of the app filters on
    windows: WindowsOptions = WindowsOptions()

    def __post_init__(self) -> None:
        _require_choice("Message.kind", self.kind, KINDS)
        if self.expires_at is not None and self.expires_at.utcoffset() is None:
            raise ValueError("Message.expires_at must be an aware datetime.")


@dataclass(frozen=True)
class Payload:
    """A rendered request body and headers for one push service, with its size limit."""

    platform: str
    body: bytes
    headers: dict[str, str]
    limit: int

    @property
    def size(self) -> int:
        """Return the body's size in bytes, the unit every provider's limit is in."""
        return len(self.body)


class PayloadTooLarge(ValueError):
    """A rendered payload is bigger than its push service accepts."""

    def __init__(self, platform: str, size: int, limit: int) -> None:
        self.platform = platform
        self.size = size
        self.limit = limit
        service = SERVICE_NAMES.get(platform, platform)
        super().__init__(
            f"The {service} payload is {size:,} bytes; {service} accepts at most {limit:,} bytes."
        )


def check_size(payload: Payload) -> None:
    """Raise PayloadTooLarge when the payload exceeds its service's limit."""
    if payload.size > payload.limit:
        raise PayloadTooLarge(payload.platform, payload.size, payload.limit)


def render(
    platform: str, message: Message, now: datetime | None = None, token: str = ""
) -> Payload:
    """Render the message for "ios", "android" or "windows".

    FCM carries the device's token in the message itself; APNs and WNS address the device in
    the request, so `token` matters only for Android.
    """
    _require_choice("platform", platform, RENDERERS)
    if platform == "android":
        return render_fcm(message, token=token, now=now)
    return RENDERERS[platform](message, now=now)


def _seconds_until(expires_at: datetime, now: datetime | None) -> int:
    """Return whole seconds from now until expires_at, never below zero."""
    now = now or datetime.now(UTC)
    return max(0, int((expires_at - now).total_seconds()))


def _without_empty(values: dict[str, object]) -> dict[str, object]:
    """Drop keys whose value is empty; zero stays, since a badge of 0 clears the badge."""
    return {key: value for key, value in values.items() if value not in ("", None, {})}


def _custom_data(message: Message, own_keys: frozenset[str]) -> dict[str, str]:
    """Return the custom data minus the keys this module sets itself."""
    return {key: str(value) for key, value in message.custom_data.items() if key not in own_keys}


def _refuse_tile(message: Message, service: str) -> None:
    """Refuse to render a tile for a service that has no tiles."""
    if message.kind == "tile":
        raise ValueError(f"A tile renders only for Windows, not for {service}.")


# APNs ----------------------------------------------------------------------------------------


def render_apns(message: Message, now: datetime | None = None) -> Payload:
    """Render the APNs JSON payload and headers (the sender adds the token and apns-topic)."""
    _refuse_tile(message, "APNs")
    body = json.dumps(_apns_document(message), separators=(",", ":"), ensure_ascii=False)
    return Payload("ios", body.encode("utf-8"), _apns_headers(message), APNS_LIMIT)


def _apns_document(message: Message) -> dict[str, object]:
    """Build the payload: aps, then custom keys, then the keys the app's code reads."""
    if "aps" in message.custom_data:
        raise ValueError("Custom data may not use the key 'aps': APNs reserves it.")
    # image_url is for the app's notification service extension, which downloads and attaches it.
    own = {"url": message.url, "tracking_id": message.tracking_id, "image_url": message.image_url}
    custom = _custom_data(message, APNS_OWN_KEYS)
    return {"aps": _apns_aps(message), **custom, **_without_empty(own)}


def _apns_aps(message: Message) -> dict[str, object]:
    """Build the aps dictionary."""
    alert = _without_empty(
        {"title": message.title, "subtitle": message.subtitle, "body": message.body}
    )
    aps = {"alert": alert, "sound": message.sound, "badge": message.badge}
    # Without mutable-content iOS shows the alert as is and the extension never sees the image.
    aps["mutable-content"] = 1 if message.image_url else None
    return _without_empty(aps)


def _apns_headers(message: Message) -> dict[str, str]:
    """Build the headers; without apns-expiration APNs stores the message for an offline device."""
    headers = {"apns-push-type": "alert", "apns-priority": "10"}
    if message.expires_at is not None:
        headers["apns-expiration"] = str(int(message.expires_at.timestamp()))
    if message.collapse_id:
        headers["apns-collapse-id"] = message.collapse_id
    return headers


# FCM -----------------------------------------------------------------------------------------


def render_fcm(message: Message, token: str = "", now: datetime | None = None) -> Payload:
    """Render the FCM HTTP v1 messages:send body; pass token="" when only measuring."""
    _refuse_tile(message, "FCM")
    document = {"message": _without_empty(_fcm_message(message, token, now))}
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Payload("android", body, {"Content-Type": "application/json"}, FCM_LIMIT)


def _fcm_message(message: Message, token: str, now: datetime | None) -> dict[str, object]:
    """Build the Message resource."""
    return {
        "token": token,
        "notification": _without_empty(
            {"title": message.title, "body": message.body, "image": message.image_url}
        ),
        "data": _fcm_data(message),
        "android": _fcm_android(message, now),
    }


def _fcm_data(message: Message) -> dict[str, str]:
    """Build the data map; the tap URL travels here for the app's launcher activity to open."""
    for key in message.custom_data:
        _refuse_fcm_reserved(key)
    own = {"subtitle": message.subtitle, "url": message.url, "tracking_id": message.tracking_id}
    return {**_custom_data(message, FCM_OWN_KEYS), **_without_empty(own)}


def _refuse_fcm_reserved(key: str) -> None:
    """Refuse a data key FCM reserves for itself."""
    if key in FCM_RESERVED_KEYS or key.lower().startswith(FCM_RESERVED_PREFIXES):
        raise ValueError(f"Custom data may not use the key {key!r}: FCM reserves it.")


def _fcm_android(message: Message, now: datetime | None) -> dict[str, object]:
    """Build the AndroidConfig: high priority so the notification shows at once."""
    notification = _without_empty(
        {
            "sound": message.sound,
            "notification_count": message.badge,
            "channel_id": message.android_channel,
            "click_action": message.android_click_action,
        }
    )
    android: dict[str, object] = {
        "priority": "high",
        "collapse_key": message.collapse_id,
        "notification": notification,
    }
    if message.expires_at is not None:
        seconds = min(_seconds_until(message.expires_at, now), FCM_MAX_TTL_SECONDS)
        android["ttl"] = f"{seconds}s"
    return _without_empty(android)


# WNS -----------------------------------------------------------------------------------------


def render_wns(message: Message, now: datetime | None = None) -> Payload:
    """Render tile XML for a tile message and adaptive toast XML for anything else."""
    if message.kind == "tile":
        document, wns_type = _tile(message), "wns/tile"
    else:
        document, wns_type = _toast(message), "wns/toast"
    body = ElementTree.tostring(document, encoding="unicode").encode("utf-8")
    return Payload("windows", body, _wns_headers(wns_type, message, now), WNS_LIMIT)


def _wns_headers(wns_type: str, message: Message, now: datetime | None) -> dict[str, str]:
    """Build the headers; without X-WNS-TTL WNS keeps the notification until it is delivered."""
    headers = {"X-WNS-Type": wns_type, "Content-Type": "text/xml"}
    tag = _wns_tag(wns_type, message.collapse_id)
    if tag:
        headers["X-WNS-Tag"] = tag
    if message.expires_at is not None:
        headers["X-WNS-TTL"] = str(_seconds_until(message.expires_at, now))
    return headers


def _wns_tag(wns_type: str, collapse_id: str) -> str:
    """Return the X-WNS-Tag to send, or "" for none.

    Microsoft's "Push notification service request and response headers" says X-WNS-Tag is
    "used only when sending tile notifications" and is "An alphanumeric string of no more than
    16 characters". The composer refuses a tile's collapse id that breaks the rule; one that
    still does (stored before the rule) is left off, since WNS answers 400 for the whole
    notification and a tag only decides which queued tile a newer one replaces.
    """
    if wns_type != "wns/tile" or not is_valid_tag(collapse_id):
        return ""
    return collapse_id


def _element(
    tag: str, attributes: dict[str, str] | None = None, text: str = ""
) -> ElementTree.Element:
    """Make an element from non-empty attributes; ElementTree escapes every value it writes."""
    clean = {name: _xml_safe(value) for name, value in (attributes or {}).items() if value}
    element = ElementTree.Element(tag, clean)
    element.text = _xml_safe(text) or None
    return element


def _xml_safe(value: str) -> str:
    """Remove the control characters XML cannot represent."""
    return XML_ILLEGAL.sub("", value)


def _flag(value: bool) -> str:
    """Write a true boolean attribute; false is every attribute's default, so it is left out."""
    return "true" if value else ""


def _visual(options: WindowsOptions) -> ElementTree.Element:
    """Make the visual element shared by toasts and tiles."""
    attributes = {"baseUri": options.base_uri, "addImageQuery": _flag(options.add_image_query)}
    return _element("visual", attributes)


def _toast(message: Message) -> ElementTree.Element:
    """Build the toast: visual, then audio, then actions, the order the schema requires."""
    toast = _element("toast", _toast_attributes(message))
    toast.append(_toast_visual(message))
    for part in (_toast_audio(message.windows), _toast_actions(message.windows)):
        if part is not None:
            toast.append(part)
    return toast


def _toast_attributes(message: Message) -> dict[str, str]:
    """Return the toast element's attributes; scenario is written only when not the default."""
    options = message.windows
    return {
        "launch": _toast_launch(message),
        "activationType": options.activation_type,
        "duration": options.duration,
        "scenario": "" if options.scenario == "default" else options.scenario,
    }


def _toast_launch(message: Message) -> str:
    """Return the launch arguments with the tracking id appended.

    A protocol launch is a URI to another app or the Store rather than a launch of this app,
    so it is left unchanged and carries no tracking.
    """
    launch = message.windows.launch
    if not message.tracking_id or message.windows.activation_type == "protocol":
        return launch
    # Quoted so an id can never add or replace launch arguments.
    tracking = "tracking_id=" + quote(message.tracking_id, safe="")
    return f"{launch}&{tracking}" if launch else tracking


def _toast_visual(message: Message) -> ElementTree.Element:
    """Build the visual with one ToastGeneric binding.

    Windows shows the first text as the title and the next two as body lines, so the texts are
    title, body, subtitle: the body must not be pushed below a subtitle into a line that the
    collapsed toast may hide. The image is inline (shown whole under the text, as Android's
    big picture is) rather than hero, which crops it to 2:1.
    """
    binding = _element("binding", {"template": "ToastGeneric"})
    for text in (message.title, message.body, message.subtitle):
        if text:
            binding.append(_element("text", text=text))
    image = message.windows.image or message.image_url
    if image:
        binding.append(_element("image", {"src": image}))
    visual = _visual(message.windows)
    visual.append(binding)
    return visual


def _toast_audio(options: WindowsOptions) -> ElementTree.Element | None:
    """Build the audio element; a silent toast needs one even without a sound of its own."""
    if not options.audio and not options.audio_silent:
        return None
    attributes = {
        "src": options.audio,
        "loop": _flag(options.audio_loop),
        "silent": _flag(options.audio_silent),
    }
    return _element("audio", attributes)


def _toast_actions(options: WindowsOptions) -> ElementTree.Element | None:
    """Build the actions element: inputs first, then buttons, as the schema orders them."""
    if not options.inputs and not options.actions:
        return None
    actions = _element("actions")
    actions.extend(_input_element(toast_input) for toast_input in options.inputs)
    actions.extend(_action_element(action) for action in options.actions)
    return actions


def _input_element(toast_input: ToastInput) -> ElementTree.Element:
    """Build an input, with its selection children when it is a selection list."""
    attributes = {
        "id": toast_input.id,
        "type": toast_input.type,
        "title": toast_input.title,
        "placeHolderContent": toast_input.placeholder,
        "defaultInput": toast_input.default,
    }
    element = _element("input", attributes)
    for selection_id, content in toast_input.selections:
        element.append(_element("selection", {"id": selection_id, "content": content}))
    return element


def _action_element(action: ToastAction) -> ElementTree.Element:
    """Build a button."""
    attributes = {
        "content": action.content,
        "arguments": action.arguments,
        "activationType": action.activation_type,
        "hint-inputId": action.input_id,
        "imageUri": action.image_uri,
    }
    return _element("action", attributes)


def _tile(message: Message) -> ElementTree.Element:
    """Build the tile: one binding per size; tiles open the app plainly, so carry no tracking."""
    if not message.windows.tiles:
        raise ValueError("A tile message needs at least one TileBinding in WindowsOptions.tiles.")
    visual = _visual(message.windows)
    visual.extend(_tile_binding(binding) for binding in message.windows.tiles)
    tile = _element("tile")
    tile.append(visual)
    return tile


def _tile_binding(binding: TileBinding) -> ElementTree.Element:
    """Build one size's binding: a background image, then the first text as a heading."""
    element = _element("binding", {"template": TILE_TEMPLATES[binding.size]})
    if binding.image:
        element.append(_element("image", {"src": binding.image, "placement": "background"}))
    for index, text in enumerate(binding.texts):
        style = "base" if index == 0 else "captionSubtle"
        element.append(_element("text", {"hint-style": style}, text))
    return element


RENDERERS: dict[str, Callable[..., Payload]] = {
    "ios": render_apns,
    "android": render_fcm,
    "windows": render_wns,
}

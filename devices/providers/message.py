"""What a push service is asked to send, before any service's wire format: one notification's
content for one language (and, when sending, one device), and the rendered Payload each
provider module's ``render`` returns with its size limit.

Nothing here touches the network or the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

# standard: an alert (on Windows a toast or a tile, chosen by the notification); silent: data
# only, shown to no one (APNs background, FCM data-only, WNS raw); badge: only the app icon's
# badge changes (on Android the app sets it from the data).
KINDS = ("standard", "toast", "tile", "silent", "badge")
PRIORITIES = ("high", "normal")
# Apple's UNNotificationInterruptionLevel as the aps dictionary spells it ("critical" needs an
# entitlement from Apple, so it is not offered).
INTERRUPTION_LEVELS = ("passive", "active", "time-sensitive")
# The glyphs a Windows badge may show instead of a number (Microsoft's "Badge notifications
# for Windows apps").
BADGE_GLYPHS = (
    "none",
    "activity",
    "alarm",
    "alert",
    "attention",
    "available",
    "away",
    "busy",
    "error",
    "newMessage",
    "paused",
    "playing",
    "unavailable",
)
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


def require_choice(option: str, value: str, allowed: Iterable[str]) -> None:
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
        require_choice("ToastInput.type", self.type, INPUT_TYPES)


@dataclass(frozen=True)
class ToastAction:
    """A button on a Windows toast."""

    content: str
    arguments: str
    activation_type: str = "foreground"
    input_id: str = ""
    image_uri: str = ""

    def __post_init__(self) -> None:
        require_choice("ToastAction.activation_type", self.activation_type, ACTIVATION_TYPES)


@dataclass(frozen=True)
class TileBinding:
    """One tile size's content."""

    size: str
    texts: tuple[str, ...] = ()
    image: str = ""

    def __post_init__(self) -> None:
        require_choice("TileBinding.size", self.size, TILE_TEMPLATES)


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
        require_choice("WindowsOptions.activation_type", self.activation_type, ACTIVATION_TYPES)
        require_choice("WindowsOptions.duration", self.duration, DURATIONS)
        require_choice("WindowsOptions.scenario", self.scenario, SCENARIOS)


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
    # high: shown at once (APNs priority 10, FCM HIGH); normal: as the device's power allows.
    priority: str = "high"
    thread_id: str = ""  # iOS groups alerts with the same thread-id
    ios_category: str = ""  # the app's UNNotificationCategory: its action buttons
    interruption_level: str = ""  # iOS 15+: passive, active or time-sensitive; "" is active
    relevance_score: float | None = None  # iOS 15+: 0 to 1, ranks the alert in the summary
    android_channel: str = ""  # the Android notification channel the app created
    android_click_action: str = ""  # the intent action an activity of the app filters on
    android_tag: str = ""  # a newer Android notification with the same tag replaces the shown one
    badge_glyph: str = ""  # Windows: a glyph instead of a number on the badge
    windows: WindowsOptions = WindowsOptions()

    def __post_init__(self) -> None:
        require_choice("Message.kind", self.kind, KINDS)
        require_choice("Message.priority", self.priority, PRIORITIES)
        if self.interruption_level:
            require_choice(
                "Message.interruption_level", self.interruption_level, INTERRUPTION_LEVELS
            )
        if self.badge_glyph:
            require_choice("Message.badge_glyph", self.badge_glyph, BADGE_GLYPHS)
        if self.relevance_score is not None and not 0 <= self.relevance_score <= 1:
            raise ValueError("Message.relevance_score must be between 0 and 1.")
        if self.expires_at is not None and self.expires_at.utcoffset() is None:
            raise ValueError("Message.expires_at must be an aware datetime.")


@dataclass(frozen=True)
class Payload:
    """A rendered request body and headers for one push service, with its size limit."""

    platform: str
    service: str  # the push service's name, for people: APNs, FCM, WNS
    body: bytes
    headers: dict[str, str]
    limit: int

    @property
    def size(self) -> int:
        """Return the body's size in bytes, the unit every provider's limit is in."""
        return len(self.body)


class PayloadTooLarge(ValueError):
    """A rendered payload is bigger than its push service accepts."""

    def __init__(self, payload: Payload) -> None:
        self.platform, self.size, self.limit = payload.platform, payload.size, payload.limit
        service, size, limit = payload.service, payload.size, payload.limit
        super().__init__(
            f"The {service} payload is {size:,} bytes; {service} accepts at most {limit:,} bytes."
        )


def check_size(payload: Payload) -> None:
    """Raise PayloadTooLarge when the payload exceeds its service's limit."""
    if payload.size > payload.limit:
        raise PayloadTooLarge(payload)


def seconds_until(expires_at: datetime, now: datetime | None) -> int:
    """Return whole seconds from now until expires_at, never below zero."""
    now = now or datetime.now(UTC)
    return max(0, int((expires_at - now).total_seconds()))


def without_empty(values: dict[str, object]) -> dict[str, object]:
    """Drop keys whose value is empty; zero stays, since a badge of 0 clears the badge."""
    return {key: value for key, value in values.items() if value not in ("", None, {})}


def custom_data(message: Message, own_keys: frozenset[str]) -> dict[str, str]:
    """Return the custom data minus the keys this module sets itself."""
    return {key: str(value) for key, value in message.custom_data.items() if key not in own_keys}


def refuse_tile(message: Message, service: str) -> None:
    """Refuse to render a tile for a service that has no tiles."""
    if message.kind == "tile":
        raise ValueError(f"A tile renders only for Windows, not for {service}.")


def refuse_empty(message: Message, service: str, *, glyph: bool = False) -> None:
    """Refuse a silent message without custom data and a badge message without a badge.

    A silent push shows nothing, so its custom data is all it carries to the app (Apple's
    "Pushing background updates to your App", FCM's data messages, WNS raw notifications); a
    badge message carries only its number (or, where ``glyph`` is true, a Windows glyph).
    """
    if message.kind == "silent" and not message.custom_data:
        raise ValueError(
            f"A silent message for {service} needs custom data: it carries nothing else."
        )
    if message.kind == "badge" and message.badge is None and not (glyph and message.badge_glyph):
        what = "a badge number or a glyph" if glyph else "a badge number"
        raise ValueError(f"A badge message for {service} needs {what}.")

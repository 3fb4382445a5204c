"""Composing a notification: its translations and the checks that need the whole of it.

Translation follows Dev Center's rules: an added language is translated from the default one;
a translation edited by hand is overridden and left alone from then on (a text field added to
the default language later is not added to it); changing the default text re-translates every
language that is not overridden.

The Windows texts (button labels, input titles, placeholders and choices, tile lines) follow the
same rules as part of their language (campaigns.windows_texts); one an overridden language lacks
is sent in the default language, so no button goes out without a label.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from modeltranslation.utils import build_localized_fieldname

from campaigns import (
    content,
    launches,
    notification_templates,
    options,
    personalization,
    windows_texts,
)
from campaigns.audience import latest_version_key
from campaigns.models import TEXT_FIELDS, Notification, OnClick, Template
from campaigns.translator import translate
from devices.models import MobileApp
from devices.providers import registry
from devices.providers.message import Payload, PayloadTooLarge, check_size

LANGUAGE_NAMES = dict(settings.LANGUAGES)
# Launch tracking adds an id of this length to every payload; sizes are measured with it.
SAMPLE_TRACKING_ID = "0" * launches.MAX_LENGTH


def language_field(name: str, code: str) -> str:
    """Return the form and model field holding one text field in one language (title_fr)."""
    return build_localized_fieldname(name, code)


def has_latest_version(app: MobileApp) -> bool:
    return bool(latest_version_key(app))


@dataclass
class TranslationState:
    """What a save does to the translations: their texts, the machine ones, the overrides.

    A language's texts are its text fields and its Windows slots (keys such as action.0.content).
    """

    default: str = ""
    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    machine: dict[str, dict[str, str]] = field(default_factory=dict)
    overridden: list[str] = field(default_factory=list)

    def apply(self, notification: Notification) -> None:
        for language, values in self.texts.items():
            for name in TEXT_FIELDS:
                notification.set_text(name, language, values.get(name, ""))
        notification.windows_texts = {
            language: own
            for language, values in self.texts.items()
            if language != self.default
            and (own := {k: v for k, v in values.items() if k not in TEXT_FIELDS and v})
        }
        notification.machine_translations = self.machine
        notification.overridden_languages = self.overridden


def translate_content(notification: Notification, data: dict) -> TranslationState:
    """Work out each added language's texts from the submitted form data."""
    default, languages = data["default_language"], data["languages"]
    slots = windows_texts.shown_slots(data)
    names = [*TEXT_FIELDS, *(slot.key for slot in slots)]
    source = {name: data.get(language_field(name, default)) or "" for name in TEXT_FIELDS}
    source.update({slot.key: slot.text for slot in slots})
    reverted = set(data.get("revert_languages") or [])
    overridden = [
        c for c in notification.overridden_languages if c in languages and c not in reverted
    ]
    automatic = [c for c in languages if c not in overridden]
    machine_now = _machine(source, default, automatic)
    state = TranslationState(default=default, texts={default: source}, overridden=overridden)
    for language in automatic:
        submitted = _submitted(data, names, language)
        before = notification.machine_translations.get(language)
        if language not in reverted and _edited(submitted, before, machine_now[language]):
            state.overridden.append(language)
            state.texts[language] = submitted
        else:
            state.texts[language] = state.machine[language] = machine_now[language]
    for language in overridden:
        state.texts[language] = _submitted(data, names, language)
        state.machine[language] = notification.machine_translations.get(language, {})
    for language in set(LANGUAGE_NAMES) - {default, *languages}:
        state.texts[language] = dict.fromkeys(TEXT_FIELDS, "")
    return state


def _submitted(data: dict, names: list[str], language: str) -> dict[str, str]:
    return {name: data.get(language_field(name, language)) or "" for name in names}


def _machine(source: dict[str, str], default: str, targets: list[str]) -> dict[str, dict[str, str]]:
    """Translate every text of the source, Windows slots included, in one call."""
    names = [n for n in source if source[n]]
    translated = translate([source[n] for n in names], default, targets) if targets else {}
    return {
        language: {
            n: dict(zip(names, translated[language], strict=True)).get(n, "") for n in source
        }
        for language in targets
    }


def _edited(submitted: dict[str, str], before: dict | None, now: dict[str, str]) -> bool:
    """Tell whether the marketer wrote their own text rather than keep a machine translation.

    A field left as it was machine-translated (before this edit, or now: the preview shows the
    fresh translation) is not an edit; an added language's empty fields are filled in. A slot
    the page did not show yet (a button just added) is empty and was not translated before.
    """
    if not any(submitted.values()):
        return False
    return submitted != now and submitted != {n: (before or {}).get(n, "") for n in submitted}


def problems(notification: Notification) -> dict[str, list[str]]:
    """Return every rule the notification breaks, by field (None for the whole form)."""
    found: dict[str, list[str]] = {}
    for check in (_content_problems, _link_problems, _tag_problems, _size_problems):
        for name, message in check(notification):
            found.setdefault(name, []).append(message)
    return found


def _content_problems(notification: Notification) -> list[tuple[str | None, str]]:
    if notification.template in content.SHOWS_NOTHING:
        return _unseen_problems(notification)
    found = []
    app = notification.app
    for language in notification.content_languages():
        for name in TEXT_FIELDS:
            text = notification.text(name, language)
            try:
                personalization.check_text(text, app)
            except personalization.PersonalizationError as error:
                found.append((language_field(name, language), error.message))
        found += _windows_text_problems(notification, language)
        if notification.template != Template.TILE and not (
            notification.text("title", language) or notification.text("body", language)
        ):
            where = language_field("body", language)
            found.append((where, f"Write a title or a message in {LANGUAGE_NAMES[language]}."))
    if notification.template == Template.TILE and not any(
        any(b.get("texts")) or b.get("image") for b in notification.tile_bindings
    ):
        found.append(("tile_bindings", "A tile needs at least one binding with text or an image."))
    return found


def _windows_text_problems(notification: Notification, language: str) -> list[tuple[str, str]]:
    """Check the personalization tokens of the Windows texts one language shows.

    The default language's texts are in the structures (an error names the structure); an added
    language's own texts are in its slot fields.
    """
    found = []
    slots = windows_texts.shown_slots(windows_texts.parts(notification))
    own = windows_texts.own_texts(notification, language)
    for slot in slots:
        if language == notification.default_language:
            text, where = slot.text, _structure(slot.key)
        else:
            text, where = own.get(slot.key, ""), language_field(slot.key, language)
        try:
            personalization.check_text(text, notification.app)
        except personalization.PersonalizationError as error:
            found.append((where, f"{slot.label}: {error.message}"))
    return found


def _structure(key: str) -> str:
    """Return the form field holding a slot's default text (action.0.content -> actions)."""
    return {"action": "actions", "input": "inputs", "tile": "tile_bindings"}[key.split(".")[0]]


def _unseen_problems(notification: Notification) -> list[tuple[str | None, str]]:
    """Check a silent or badge-only notification: what it carries, and no text it would drop."""
    found: list[tuple[str | None, str]] = []
    label = Template(notification.template).label
    for language in notification.content_languages():
        for name in TEXT_FIELDS:
            if notification.text(name, language):
                found.append((language_field(name, language), f"{label} shows no text."))
    if notification.template == Template.SILENT and not notification.custom_data:
        found.append(("custom_data", "A silent notification carries custom data: add some."))
    if notification.template == Template.SILENT and notification.badge is not None:
        # Apple: a background push carries no alert, sound or badge.
        found.append(("badge", "A silent notification sets no badge; send a Badge only one."))
    phones = {"ios", "android"} & set(notification.platforms)
    if notification.template == Template.BADGE and notification.badge is None:
        if phones or not notification.badge_glyph:
            found.append(("badge", "Set the badge number (0 clears it)."))
    return found


def _link_problems(notification: Notification) -> list[tuple[str, str]]:
    found = []
    for name, value, allowed, what in _links(notification):
        left = notification_templates.placeholders(value)
        if left:
            found.append((name, f"Replace the placeholder {left[0]} with your own value."))
            continue
        try:
            options.check_url(value, allowed(), what)
        except ValidationError as error:
            found.append((name, error.messages[0]))
    return found


def _links(notification: Notification) -> list[tuple[str, str, object, str]]:
    """List the links to check: (field, value, allowed schemes, what the error calls it)."""
    app, platforms = notification.app, notification.platforms
    deep = notification.on_click == OnClick.DEEP_LINK
    tap = lambda: options.link_schemes(app, deep_link=deep)  # noqa: E731
    resources = lambda: ("https", *options.WINDOWS_RESOURCE_SCHEMES)  # noqa: E731
    links = [("image_url", notification.image_url, lambda: ("https",), "The image URL")]
    # The shared URL is needed only where iOS or Android has no URL of its own.
    own = {"ios": notification.ios_url, "android": notification.android_url}
    needs_url = any(p in platforms and not own[p] for p in own)
    mobile = {"ios", "android"} & set(platforms)
    if notification.on_click != OnClick.APP and mobile and (notification.url or needs_url):
        links.append(("url", notification.url, tap, "The URL"))
    links += [
        ("ios_url", notification.ios_url if "ios" in platforms else "", tap, "The iOS URL"),
        (
            "android_url",
            notification.android_url if "android" in platforms else "",
            tap,
            "The Android URL",
        ),
    ]
    if "windows" in platforms:
        links += _windows_links(notification, resources)
    return [link for link in links if link[1] or link[0] == "url"]


def _windows_links(notification: Notification, resources: object) -> list[tuple]:
    links = [
        ("base_uri", notification.base_uri, resources, "The base URI"),
        ("windows_image", notification.windows_image, resources, "The Windows image"),
    ]
    if notification.activation_type == "protocol":
        schemes = lambda: options.link_schemes(notification.app)  # noqa: E731
        links.append(("launch", notification.launch, schemes, "A protocol launch"))
    elif notification_templates.placeholders(notification.launch):
        links.append(("launch", notification.launch, lambda: (), "The launch arguments"))
    return links


def _tag_problems(notification: Notification) -> list[tuple[str, str]]:
    """Refuse a tile's collapse id that WNS would not take as its X-WNS-Tag.

    Microsoft's "Push notification service request and response headers" uses X-WNS-Tag "only
    when sending tile notifications", so a toast's collapse id never reaches WNS and needs only
    the rule every provider shares (options.check_identifier).
    """
    if notification.template != Template.TILE or "windows" not in notification.platforms:
        return []
    try:
        options.check_wns_tag(notification.collapse_id, "A tile's collapse ID")
    except ValidationError as error:
        return [("collapse_id", error.messages[0])]
    return []


def _size_problems(notification: Notification) -> list[tuple[None, str]]:
    found = []
    for language in notification.content_languages():
        for platform in notification.platforms:
            try:
                payload = render_for_preview(notification, platform, language)
                check_size(payload)
            except PayloadTooLarge as error:
                found.append((None, f"{LANGUAGE_NAMES[language]}: {error}"))
            except ValueError as error:
                found.append((None, f"{LANGUAGE_NAMES[language]}, {platform}: {error}"))
    return found


def render_for_preview(
    notification: Notification, platform: str, language: str, context: dict | None = None
) -> Payload:
    """Render one platform's payload in one language as a send would, tracking id included."""
    message = content.message(
        notification, platform, language, context=context, tracking_id=SAMPLE_TRACKING_ID
    )
    return registry.render(platform, message)

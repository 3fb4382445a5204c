"""What the composer shows beside the form: content per language and platform, payloads, reach."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns import (
    audience,
    composition,
    personalization,
    preview_samples,
    send_rules,
    windows_texts,
)
from campaigns.content import personalize, platform_url, texts
from campaigns.forms import NotificationForm, language_field
from campaigns.models import TEXT_FIELDS, Notification, Template
from campaigns.notification_templates import NotificationTemplate
from devices.models import MobileApp
from devices.providers import registry
from devices.providers.message import PayloadTooLarge
from segments import services as segment_services

LANGUAGE_NAMES = dict(settings.LANGUAGES)
TARGET_FIELDS = (
    "app",
    "platforms",
    "target_kind",
    "segments",
    "install_ids",
    "user_ids",
    "filter_languages",
    "filter_time_zones",
    "category",
)


def template_initial(template: NotificationTemplate, app: MobileApp | None) -> dict:
    """Return the form's starting values for a template, on the app's platforms where it can."""
    values = dict(template.values)
    for name in ("title", "body"):
        if name in values:
            values[language_field(name, settings.LANGUAGE_CODE)] = values.pop(name)
    available = [p for p in template.platforms if app and p in app.platforms()]
    return {
        **values,
        "template": template.key,
        "name": template.label,
        "platforms": available or list(template.platforms),
        **({"app": app.pk} if app else {}),
    }


def language_panels(form: NotificationForm) -> list[dict]:
    """Return each language's text fields for the form, the default language first.

    An added language also has a field per Windows slot (button labels, input texts, tile
    lines); the default language's are in the Windows structures themselves.
    """
    notification = form.instance
    if "default_language" in form.fields:
        default = form["default_language"].value() or settings.LANGUAGE_CODE
    else:
        default = notification.default_language
    codes = [default, *(c for c in LANGUAGE_NAMES if c != default)]
    slots = _slots(form)
    return [
        {
            "code": code,
            "name": LANGUAGE_NAMES[code],
            "default": code == default,
            "overridden": code in notification.overridden_languages,
            "fields": [_text_field(form, name, code) for name in TEXT_FIELDS],
            "windows_fields": [] if code == default else _slot_fields(form, slots, code),
            "has_windows_texts": bool(slots),
        }
        for code in codes
    ]


def _text_field(form: NotificationForm, name: str, code: str) -> object:
    """Return the bound field, or the stored text when the notification is read-only."""
    field_name = language_field(name, code)
    if field_name in form.fields:
        return form[field_name]
    return {
        "name": field_name,
        "label": name.capitalize() if name != "body" else "Message",
        "readonly": form.instance.text(name, code),
    }


def _slots(form: NotificationForm) -> list[windows_texts.Slot]:
    if form.edits_texts:
        return form.windows_slots
    return windows_texts.shown_slots(windows_texts.parts(form.instance))


def _slot_fields(form: NotificationForm, slots: list[windows_texts.Slot], code: str) -> list:
    """Return one language's Windows slot fields, or the texts it sends when read-only."""
    names = [language_field(slot.key, code) for slot in slots]
    if all(name in form.fields for name in names):
        return [form[name] for name in names]
    # What the language sends: its own text, else the default's (only for a language it has).
    added = code in form.instance.languages
    sent = windows_texts.texts(form.instance, code) if added else {}
    return [
        {"name": name, "label": slot.label, "readonly": sent.get(slot.key, "")}
        for name, slot in zip(names, slots, strict=True)
    ]


def preview(form: NotificationForm, preview_as: str = "") -> dict:
    """Validate the submitted form and describe the notification it would save."""
    valid = form.is_valid()
    notification = form.instance
    result: dict = {"errors": errors(form), "warnings": form.warnings, "valid": valid}
    if notification.app_id is None:
        return {**result, "languages": [], "previews": {}, "estimate": None}
    target_known = not any(form.has_error(name) for name in TARGET_FIELDS)
    segments = (form.cleaned_data.get("segments") or []) if target_known else None
    pool = preview_samples.pool_of(notification, segments)
    return {**result, **describe(notification, pool, preview_as), "estimate": _estimate(form)}


def stored_preview(notification: Notification, preview_as: str = "") -> dict:
    """Describe a notification as stored (one that can no longer change)."""
    status = notification.get_status_display().lower()
    estimate = {
        "count": None,
        "message": f"This notification is {status}; it can no longer change.",
    }
    return {
        "errors": {},
        "warnings": [],
        "valid": True,
        **describe(notification, _stored_pool(notification), preview_as),
        "estimate": estimate,
    }


def _stored_pool(notification: Notification) -> object:
    return preview_samples.pool_of(notification, notification.segments.all())


def describe(notification: Notification, pool: object, preview_as: str = "") -> dict:
    """Return each language's content and payloads, personalized per platform for a sample
    device (preview_samples)."""
    samples = preview_samples.samples(notification, pool, preview_as)
    contexts = {platform: context for platform, (context, _) in samples.items()}
    languages = [lang for lang in notification.content_languages() if lang in LANGUAGE_NAMES]
    return {
        "app_name": notification.app.display_name,
        "languages": [_language(notification, code) for code in languages],
        "previews": {code: _content(notification, code, contexts) for code in languages},
        "translations": {
            code: {**texts(notification, code), **windows_texts.own_texts(notification, code)}
            for code in notification.languages
            if code not in notification.overridden_languages
        },
        "segment_ids": list(notification.app.segments.values_list("pk", flat=True)),
        "samples": {platform: label for platform, (_, label) in samples.items()},
    }


def errors(form: NotificationForm) -> dict[str, list[str]]:
    return {name or "__all__": [str(m) for m in errors] for name, errors in form.errors.items()}


def _language(notification: Notification, code: str) -> dict:
    return {
        "code": code,
        "name": LANGUAGE_NAMES[code],
        "default": code == notification.default_language,
        "overridden": code in notification.overridden_languages,
    }


def _content(notification: Notification, language: str, contexts: dict[str, dict]) -> dict:
    """Return one language's texts per platform (each for its sample), links and payloads."""
    shown = {p: _shown_texts(notification, language, c) for p, c in contexts.items()}
    first = next(iter(shown.values()), texts(notification, language))
    windows = _windows_parts(notification, language, contexts.get("windows", {}))
    return {
        **first,
        "texts": shown,
        "unseen": _unseen_note(notification),
        "image_url": notification.image_url,
        "url": {p: platform_url(notification, p) for p in ("ios", "android")},
        "windows": {
            "kind": "tile" if notification.template == "tile" else "toast",
            "launch": notification.launch,
            "activation_type": notification.activation_type,
            "image": notification.windows_image or notification.image_url,
            "inputs": windows["inputs"],
            "actions": windows["actions"],
            "tiles": windows["tile_bindings"],
        },
        "payloads": {
            p: _payload(notification, p, language, contexts[p]) for p in notification.platforms
        },
    }


def _shown_texts(notification: Notification, language: str, context: dict) -> dict[str, str]:
    try:
        return personalize(texts(notification, language), context)
    except personalization.PersonalizationError:
        return texts(notification, language)  # the errors list says what is wrong


def _unseen_note(notification: Notification) -> str:
    """Say what a notification that shows no alert does instead; "" for one that shows one."""
    if notification.template == Template.SILENT:
        return (
            "Nobody sees it: the app receives the custom data in the background. Apple "
            "throttles background pushes and delivers none to an app the user force-quit."
        )
    if notification.template == Template.BADGE:
        glyph = f" (Windows: {notification.badge_glyph})" if notification.badge_glyph else ""
        return f"Only the app icon's badge changes, to {notification.badge}{glyph}."
    return ""


def _windows_parts(notification: Notification, language: str, context: dict) -> dict[str, list]:
    """Return the Windows structures with one language's texts, personalized where they can be."""
    values = windows_texts.texts(notification, language)
    try:
        values = personalize(values, context)
    except personalization.PersonalizationError:
        pass  # the errors list says what is wrong; the preview shows the texts as written
    return windows_texts.localized(notification, values)


def _payload(notification: Notification, platform: str, language: str, context: dict) -> dict:
    name = registry.NAMES.get(platform, platform)
    try:
        payload = composition.render_for_preview(notification, platform, language, context)
    except (ValueError, personalization.PersonalizationError) as error:
        return {"provider": name, "error": str(error)}
    over = payload.size > payload.limit
    return {
        "provider": name,
        "text": payload.body.decode(),
        "headers": payload.headers,
        "size": payload.size,
        "limit": payload.limit,
        "error": str(PayloadTooLarge(payload)) if over else "",
    }


def _estimate(form: NotificationForm) -> dict:
    """Count the audience when the target and filters are valid, and how many of it the
    app's caps and quiet hours would hold back were it sent now (none for a transactional)."""
    if any(form.has_error(name) for name in TARGET_FIELDS):
        return {"count": None, "message": "Fix the customer group to see its size."}
    segments = form.cleaned_data.get("segments") or []
    try:
        with transaction.atomic():
            reached = audience.audience(form.instance, segments)
            held = send_rules.held_back(form.instance, reached, timezone.now())
            return {"count": reached.count(), "held_back": held}
    except segment_services.EVALUATION_ERRORS:
        # A segment stored before a rule it breaks: its page says why.
        return {"count": None, "message": "A chosen segment cannot be evaluated; open it."}

"""The Push API's notification_content, mapped onto the composer's fields and back.

A send request fills the same form the dashboard's composer does, so every rule the composer
applies (links, sizes, personalization, translations) applies to the API too; a refusal names
the body's field through API_FIELDS.
"""

from __future__ import annotations

from django.conf import settings

from campaigns import notification_templates
from campaigns.composition import language_field
from campaigns.models import TEXT_FIELDS, Notification, OnClick, Template
from campaigns.preview import template_initial
from devices.models import MobileApp

LANGUAGE = settings.LANGUAGE_CODE
CONTENT = "notification_content"
# The content fields whose value goes to the form field of the same name, as given.
SAME_NAME = (
    "image_url",
    "sound",
    "badge",
    "badge_glyph",
    "priority",
    "collapse_id",
    "thread_id",
    "interruption_level",
    "relevance_score",
    "android_channel",
    "android_tag",
    "ios_url",
    "android_url",
)
# The body's windows object, by the composer's field names (the form's "windows_image").
WINDOWS = {
    "activation_type": "activation_type",
    "launch": "launch",
    "duration": "duration",
    "scenario": "scenario",
    "windows_image": "image",
    "audio": "audio",
    "audio_loop": "audio_loop",
    "audio_silent": "audio_silent",
    "inputs": "inputs",
    "actions": "actions",
    "tile_bindings": "tile_bindings",
}
# The body's field for each form field whose name differs from it.
RENAMED = {
    "name": "name",
    "custom_data": "custom_data",
    "template": "template",
    "url": "url",
    "on_click": "url",
    "ios_category": "category",
    **{language_field(name, LANGUAGE): name for name in TEXT_FIELDS},
}
# Where each of the composer's content fields is in the API body, for naming refusals.
API_FIELDS = {
    **{name: f"{CONTENT}.{name}" for name in SAME_NAME},
    **{form: f"{CONTENT}.{body}" for form, body in RENAMED.items()},
    **{
        language_field(name, code): f"{CONTENT}.languages.{code}.{name}"
        for code, _ in settings.LANGUAGES
        if code != LANGUAGE
        for name in TEXT_FIELDS
    },
    "languages": f"{CONTENT}.languages",
    **{form: f"{CONTENT}.windows.{body}" for form, body in WINDOWS.items()},
}
# What a request that names no template starts from: a standard message that opens the app.
DEFAULTS = {
    "template": Template.STANDARD,
    "on_click": OnClick.APP,
    "activation_type": "foreground",
    "duration": "short",
    "scenario": "default",
    "priority": "high",
    "inputs": "[]",
    "actions": "[]",
    "tile_bindings": "[]",
}


def form_content(app: MobileApp, content: dict) -> dict:
    """Return the composer's content fields for a request's notification_content."""
    values = {**DEFAULTS, "platforms": app.platforms(), **_template_values(app, content)}
    values.update({name: content[name] for name in SAME_NAME if name in content})
    for name in TEXT_FIELDS:
        if name in content:
            values[language_field(name, LANGUAGE)] = content[name]
    values["name"] = content["name"]
    values["custom_data"] = content.get("custom_data") or {}
    if "category" in content:
        values["ios_category"] = content["category"]
    if "url" in content:
        values["url"] = content["url"]
    if any(content.get(link) for link in ("url", "ios_url", "android_url")):
        values["on_click"] = OnClick.URL
    windows = content.get("windows") or {}
    values.update({form: windows[body] for form, body in WINDOWS.items() if body in windows})
    values.update(_language_values(content.get("languages") or {}))
    return values


def _template_values(app: MobileApp, content: dict) -> dict:
    """Return the named template's starting values (silent is a template of its own)."""
    key = Template.SILENT if content.get("silent") else content.get("template")
    template = notification_templates.find(key, app) if key else None
    if template is None:
        return {}
    values = template_initial(template, app)
    values.pop("app", None)
    values.pop("name", None)
    return values


def _language_values(languages: dict) -> dict:
    """Return the default language and each added language's given texts."""
    added = [code for code in languages if code != LANGUAGE]
    values: dict = {"default_language": LANGUAGE, "languages": added}
    for code in added:
        for name, text in languages[code].items():
            values[language_field(name, code)] = text
    return values


def content_json(notification: Notification) -> dict:
    """Return a notification's content as the API body names it; empty options are left out."""
    language = notification.default_language
    found = {
        "name": notification.name,
        "title": notification.text("title", language),
        "body": notification.text("body", language),
        "custom_data": notification.custom_data,
        "template": notification.template,
        "subtitle": notification.text("subtitle", language),
        "url": notification.url,
        "category": notification.ios_category,
        "silent": notification.template == Template.SILENT,
        **{name: getattr(notification, name) for name in SAME_NAME},
        "windows": _windows_json(notification),
        "languages": {
            code: {name: notification.text(name, code) for name in TEXT_FIELDS}
            for code in notification.languages
        },
    }
    always = {"name", "title", "body", "custom_data"}
    return {k: v for k, v in found.items() if k in always or v not in ("", None, {}, [])}


def _windows_json(notification: Notification) -> dict:
    """Return the Windows options that differ from a plain toast's."""
    if "windows" not in notification.platforms:
        return {}
    plain = {"activation_type": "foreground", "duration": "short", "scenario": "default"}
    found = {body: getattr(notification, form) for form, body in WINDOWS.items()}
    return {k: v for k, v in found.items() if v not in ("", False, [], None) and plain.get(k) != v}

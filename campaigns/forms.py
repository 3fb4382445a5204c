"""The notification form: every option checked, content translated, payloads measured."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django import forms
from django.conf import settings
from django.utils import timezone

from campaigns import composition, local_time, options, services, windows_texts
from campaigns.composition import language_field
from campaigns.models import (
    MAX_CONVERSION_MINUTES,
    MIN_CONVERSION_MINUTES,
    TEXT_FIELDS,
    ConversionStart,
    Kind,
    Notification,
    Priority,
    ScheduleKind,
    TargetKind,
    Template,
)
from campaigns.translator import TranslationError
from pushcenter.request_limits import BoundedJSONField

PLATFORM_CHOICES = [("ios", "iOS"), ("android", "Android"), ("windows", "Windows")]
WINDOWS_ONLY = (Template.TOAST, Template.TILE, Template.FEEDBACK)
# The first and the last time zones to reach a wall-clock time (UTC+14 and UTC-12).
DATE_TIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
TEXT_LABELS = ("Title", "Subtitle", "Message")
TRANSLATED_FIELDS = [language_field(f, c) for c, _ in settings.LANGUAGES for f in TEXT_FIELDS]
JSON_HELP = {
    "custom_data": '{"screen": "offers"}: keys and text values your app reads.',
    "inputs": '[{"id": "reply", "type": "text", "placeholder": "Type a reply"}] or a selection '
    'input with "selections": [{"id": "yes", "content": "Yes"}].',
    "actions": '[{"content": "Open", "arguments": "action=open", "activation_type": '
    '"foreground"}] (foreground, background or protocol; "input_id" puts it beside an input).',
    "tile_bindings": '[{"size": "medium", "texts": ["Sale"], "image": "https://..."}]; '
    "sizes small, medium, wide, large.",
}


class WallClockField(forms.DateTimeField):
    """A local time in each recipient's zone: stored as if it were UTC, never moved into the
    zone of the marketer who types it."""

    def prepare_value(self, value: object) -> object:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def to_python(self, value: object) -> datetime | None:
        parsed = forms.DateTimeField.to_python(self, value)  # read in the current zone
        if parsed is None:
            return None
        return timezone.localtime(parsed).replace(tzinfo=UTC)


# The conversion goal's fields, in the composer and in a journey step's form.
CONVERSION_FIELDS = [
    "conversion_event",
    "conversion_window_minutes",
    "conversion_starts",
    "conversion_value_property",
]
CONVERSION_WINDOW_RULE = (
    f"A conversion window is {MIN_CONVERSION_MINUTES} minute to 30 days "
    f"({MAX_CONVERSION_MINUTES} minutes)."
)


DEFAULT_CONVERSION_MINUTES = 24 * 60


def conversion_window_field() -> forms.IntegerField:
    """The window in minutes, its bounds said in the error; a day when left empty."""
    errors = {"min_value": CONVERSION_WINDOW_RULE, "max_value": CONVERSION_WINDOW_RULE}
    return forms.IntegerField(
        label="Conversion window (minutes)",
        required=False,
        min_value=MIN_CONVERSION_MINUTES,
        max_value=MAX_CONVERSION_MINUTES,
        initial=DEFAULT_CONVERSION_MINUTES,
        error_messages=errors,
        help_text="How long after the start an event still counts: 1440 is a day, 10080 a week.",
    )


def conversion_starts_field() -> forms.ChoiceField:
    """What the window starts at; the sending when left out."""
    return forms.ChoiceField(
        label="Conversion window starts",
        required=False,
        choices=ConversionStart.choices,
        initial=ConversionStart.SENT,
        help_text="When it was opened: only launched deliveries can convert.",
    )


def clean_conversion_goal(form: forms.Form, data: dict, track_launches: bool) -> None:
    """Fill the goal's defaults; refuse a value without an event, a launch untracked."""
    if "conversion_window_minutes" in data and data["conversion_window_minutes"] is None:
        data["conversion_window_minutes"] = DEFAULT_CONVERSION_MINUTES
    if "conversion_starts" in data and not data["conversion_starts"]:
        data["conversion_starts"] = ConversionStart.SENT
    if data.get("conversion_event"):
        if data.get("conversion_starts") == ConversionStart.LAUNCHED and not track_launches:
            form.add_error(
                "conversion_starts",
                "Counting from the launch needs launch tracking: tick Track app launch rate.",
            )
        return
    if data.get("conversion_value_property"):
        form.add_error(
            "conversion_value_property",
            "Name the conversion event whose property is summed, or leave this empty.",
        )


class NotificationForm(forms.ModelForm):
    platforms = forms.MultipleChoiceField(
        choices=PLATFORM_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    languages = forms.MultipleChoiceField(
        choices=settings.LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Added languages are translated automatically from the default language.",
    )
    revert_languages = forms.MultipleChoiceField(
        choices=settings.LANGUAGES, required=False, widget=forms.MultipleHiddenInput
    )
    install_ids = forms.CharField(
        label="Install IDs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line.",
    )
    user_ids = forms.CharField(
        label="User IDs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line; every device of each user receives it.",
    )
    account_ids = forms.CharField(
        label="Account IDs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line; every device signed in to each account receives it.",
    )
    filter_languages = forms.CharField(
        label="Only these languages",
        required=False,
        help_text="Language codes devices report, such as fr, de.",
    )
    filter_time_zones = forms.CharField(
        label="Only these time zones",
        required=False,
        help_text="IANA names such as Europe/Paris, America/New_York.",
    )
    send_at = forms.DateTimeField(label="Send at", required=False, widget=DATE_TIME)
    local_send_at = WallClockField(
        label="Local time",
        required=False,
        widget=DATE_TIME,
        help_text="Each recipient gets it at this time in their own time zone.",
    )
    expires_at = forms.DateTimeField(label="Expires at", required=False, widget=DATE_TIME)
    never_expires = forms.BooleanField(label="Notification never expires", required=False)
    conversion_window_minutes = conversion_window_field()
    conversion_starts = conversion_starts_field()

    class Meta:
        model = Notification
        fields = [
            "app",
            "name",
            "template",
            "kind",
            "platforms",
            "target_kind",
            "segments",
            "install_ids",
            "user_ids",
            "account_ids",
            "category",
            "filter_languages",
            "filter_time_zones",
            "schedule_kind",
            "send_at",
            "local_send_at",
            "expires_at",
            "default_language",
            "languages",
            *TRANSLATED_FIELDS,
            "image_url",
            "sound",
            "badge",
            "custom_data",
            "on_click",
            "url",
            "ios_url",
            "android_url",
            "track_launches",
            *CONVERSION_FIELDS,
            "collapse_id",
            "android_channel",
            "android_click_action",
            "android_tag",
            "thread_id",
            "ios_category",
            "interruption_level",
            "relevance_score",
            "priority",
            "badge_glyph",
            "activation_type",
            "launch",
            "duration",
            "scenario",
            "base_uri",
            "add_image_query",
            "windows_image",
            "audio",
            "audio_loop",
            "audio_silent",
            "inputs",
            "actions",
            "tile_bindings",
        ]
        field_classes = {name: BoundedJSONField for name in JSON_HELP}
        widgets = {
            "kind": forms.RadioSelect,
            "target_kind": forms.RadioSelect,
            "schedule_kind": forms.RadioSelect,
            "on_click": forms.RadioSelect,
            "segments": forms.CheckboxSelectMultiple,
            **{name: forms.Textarea(attrs={"rows": 3}) for name in JSON_HELP},
        }
        labels = {
            "schedule_kind": "Schedule",
            "target_kind": "Customer group",
            "windows_image": "Image",
            "ios_url": "iOS URL",
        }
        help_texts = {
            **JSON_HELP,
            "collapse_id": "A newer notification with the same ID replaces this one on the "
            "device. On Windows only a tile takes it (as X-WNS-Tag: letters and digits, at "
            "most 16).",
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.warnings: list[str] = []
        zone = timezone.get_current_timezone_name()
        for name, label in (("send_at", "Send at"), ("expires_at", "Expires at")):
            if name in self.fields:
                self.fields[name].label = f"{label} ({zone})"
                self.fields[name].help_text = "Stored in UTC; the review shows both."
        self.translation_state: composition.TranslationState | None = None
        self.windows_slots: list[windows_texts.Slot] = []
        for code, _name in settings.LANGUAGES:
            for name, label in zip(TEXT_FIELDS, TEXT_LABELS, strict=True):
                field = self.fields.get(language_field(name, code))
                if field is None:  # a read-only notification: the page shows the stored text
                    continue
                field.required, field.label = False, label
                field.widget.attrs.update({"data-text": name, "lang": code})
        if self.edits_texts:
            self._add_windows_text_fields()
        # A form from before kinds and priorities existed sends marketing at high priority.
        for name in ("kind", "priority"):
            if name in self.fields:
                self.fields[name].required = False
        if self.instance.pk:
            self.initial.setdefault("never_expires", self.instance.expires_at is None)
            self.initial["install_ids"] = "\n".join(self.instance.install_ids)
            self.initial["user_ids"] = "\n".join(self.instance.user_ids)
            self.initial["account_ids"] = "\n".join(self.instance.account_ids)
            self.initial["filter_languages"] = ", ".join(self.instance.filter_languages)
            self.initial["filter_time_zones"] = ", ".join(self.instance.filter_time_zones)
        else:
            self.initial.setdefault("never_expires", True)

    @property
    def edits_texts(self) -> bool:
        """Tell whether the texts can be edited (a read-only notification's page shows them)."""
        return language_field("title", settings.LANGUAGE_CODE) in self.fields

    def _add_windows_text_fields(self) -> None:
        """Add one field per Windows slot and language, read from the structures submitted (or
        stored): an added language's button labels, input texts and tile lines."""
        stored = self.instance.windows_texts or {}
        self.windows_slots = windows_texts.shown_slots(self._windows_parts())
        for slot in self.windows_slots:
            for code, _name in settings.LANGUAGES:
                name = language_field(slot.key, code)
                self.fields[name] = forms.CharField(
                    label=slot.label,
                    required=False,
                    max_length=windows_texts.MAX_LENGTH,
                    widget=forms.TextInput(
                        attrs={
                            "class": "vTextField",
                            "data-text": slot.key,
                            "lang": code,
                            "placeholder": slot.text,  # what an empty field sends
                        }
                    ),
                )
                self.initial.setdefault(name, (stored.get(code) or {}).get(slot.key, ""))

    def _windows_parts(self) -> dict[str, object]:
        """Return the template, platforms and Windows structures as submitted, else as stored."""
        if not self.is_bound:
            return windows_texts.parts(self.instance)
        getlist = getattr(self.data, "getlist", None)
        platforms = getlist("platforms") if getlist else self.data.get("platforms")
        values = {"template": self.data.get("template"), "platforms": platforms or []}
        for name in windows_texts.PARTS:
            raw = self.data.get(name)
            try:
                values[name] = raw if isinstance(raw, list) else json.loads(raw or "[]")
            except (TypeError, ValueError):
                values[name] = []  # the field's own check says what is wrong
        return values

    def clean_send_at(self) -> datetime | None:
        return local_time.check_schedulable(self.cleaned_data["send_at"])

    def clean_local_send_at(self) -> datetime | None:
        return local_time.check_schedulable(self.cleaned_data["local_send_at"])

    def clean_expires_at(self) -> datetime | None:
        return local_time.check_schedulable(self.cleaned_data["expires_at"])

    def clean_kind(self) -> str:
        return self.cleaned_data["kind"] or Kind.MARKETING

    def clean_priority(self) -> str:
        return self.cleaned_data["priority"] or Priority.HIGH

    def clean_install_ids(self) -> list[str]:
        return options.install_ids(self.cleaned_data["install_ids"])

    def clean_user_ids(self) -> list[str]:
        return options.user_ids(self.cleaned_data["user_ids"])

    def clean_account_ids(self) -> list[str]:
        return options.user_ids(self.cleaned_data["account_ids"], what="account")

    def clean_filter_languages(self) -> list[str]:
        return options.languages(self.cleaned_data["filter_languages"])

    def clean_filter_time_zones(self) -> list[str]:
        return options.time_zones(self.cleaned_data["filter_time_zones"])

    def clean_custom_data(self) -> dict[str, str]:
        data, warnings = options.custom_data(self.cleaned_data["custom_data"] or {})
        self.warnings.extend(warnings)
        return data

    def clean_inputs(self) -> list[dict]:
        return options.toast_inputs(self.cleaned_data["inputs"] or [])

    def clean_actions(self) -> list[dict]:
        inputs = self.cleaned_data.get("inputs") or []
        return options.toast_actions(self.cleaned_data["actions"] or [], {i["id"] for i in inputs})

    def clean_tile_bindings(self) -> list[dict]:
        return options.tile_bindings(self.cleaned_data["tile_bindings"] or [])

    def clean_sound(self) -> str:
        options.check_sound(self.cleaned_data["sound"])
        return self.cleaned_data["sound"]

    def clean_collapse_id(self) -> str:
        options.check_identifier(self.cleaned_data["collapse_id"], "The collapse ID")
        return self.cleaned_data["collapse_id"]

    def clean_android_channel(self) -> str:
        options.check_identifier(self.cleaned_data["android_channel"], "The Android channel")
        return self.cleaned_data["android_channel"]

    def clean_android_tag(self) -> str:
        options.check_identifier(self.cleaned_data["android_tag"], "The Android tag")
        return self.cleaned_data["android_tag"]

    def clean_thread_id(self) -> str:
        options.check_identifier(self.cleaned_data["thread_id"], "The iOS thread ID")
        return self.cleaned_data["thread_id"]

    def clean_ios_category(self) -> str:
        options.check_identifier(self.cleaned_data["ios_category"], "The iOS category")
        return self.cleaned_data["ios_category"]

    def clean_android_click_action(self) -> str:
        value = self.cleaned_data["android_click_action"]
        options.check_identifier(value, "The Android click action")
        return value

    def clean_audio(self) -> str:
        options.check_windows_audio(self.cleaned_data["audio"])
        return self.cleaned_data["audio"]

    def clean(self) -> dict:
        data = super().clean()
        self._clean_platforms(data)
        self._clean_target(data)
        self._clean_schedule(data)
        self._clean_languages(data)
        self._warn_of_windows_badge(data)
        if data.get("template") in (Template.BADGE, Template.SILENT):
            data["track_launches"] = False  # nothing is shown, so nothing is tapped
        clean_conversion_goal(self, data, bool(data.get("track_launches")))
        return data

    def _warn_of_windows_badge(self, data: dict) -> None:
        """WNS sends a badge only as a notification of its own, never with a toast or tile."""
        unseen = (Template.BADGE, Template.SILENT)
        windows = "windows" in (data.get("platforms") or [])
        if windows and data.get("badge") is not None and data.get("template") not in unseen:
            self.warnings.append(
                "Windows shows no badge with a toast or tile: send a Badge only notification "
                "to set the badge there."
            )

    def _clean_platforms(self, data: dict) -> None:
        platforms, template, app = (
            data.get("platforms") or [],
            data.get("template"),
            data.get("app"),
        )
        if template in WINDOWS_ONLY and set(platforms) - {"windows"}:
            self.add_error("platforms", f"{Template(template).label} is for Windows only.")
        elif app and (missing := set(platforms) - set(app.platforms())):
            names = ", ".join(dict(PLATFORM_CHOICES)[p] for p in sorted(missing))
            self.add_error(
                "platforms",
                f"{app} has no {names} credentials; add them on the app page or untick {names}.",
            )

    def _clean_target(self, data: dict) -> None:
        kind, app = data.get("target_kind"), data.get("app")
        # What another kind of target would use is kept off the notification.
        for name, used_by in (
            ("segments", TargetKind.SEGMENTS),
            ("install_ids", TargetKind.INSTALL_IDS),
            ("user_ids", TargetKind.USER_IDS),
            ("account_ids", TargetKind.ACCOUNT_IDS),
        ):
            if kind != used_by and name in data:
                data[name] = []
        segments = data.get("segments") or []
        if kind == TargetKind.SEGMENTS and not segments:
            self.add_error("segments", "Choose at least one segment, or target everyone.")
        if app and any(s.app_id != app.pk for s in segments):
            self.add_error("segments", f"Choose segments of {app}.")
        if kind == TargetKind.INSTALL_IDS and not data.get("install_ids") and "install_ids" in data:
            self.add_error("install_ids", "List at least one install ID.")
        if kind == TargetKind.USER_IDS and not data.get("user_ids") and "user_ids" in data:
            self.add_error("user_ids", "List at least one user ID.")
        if kind == TargetKind.ACCOUNT_IDS and not data.get("account_ids") and "account_ids" in data:
            self.add_error("account_ids", "List at least one account ID.")
        if kind == TargetKind.OUTDATED and app and not composition.has_latest_version(app):
            self.add_error(
                "target_kind",
                "No device reports an app version yet; set the latest version on the app page.",
            )

    def _clean_schedule(self, data: dict) -> None:
        kind, now = data.get("schedule_kind"), timezone.now()
        if kind != ScheduleKind.AT:
            data["send_at"] = None
        if kind != ScheduleKind.LOCAL:
            data["local_send_at"] = None
        send_at, local_at = data.get("send_at"), data.get("local_send_at")
        if kind == ScheduleKind.AT and not send_at:
            self.add_error("send_at", "Choose the date and time to send, or send immediately.")
        elif kind == ScheduleKind.AT and send_at <= now:
            self.add_error("send_at", "Choose a time in the future.")
        if kind == ScheduleKind.LOCAL and not local_at:
            self.add_error("local_send_at", "Choose the local date and time to send.")
        elif kind == ScheduleKind.LOCAL and local_at + services.LATEST_OFFSET <= now:
            self.add_error("local_send_at", "That time has passed in every time zone.")
        if data.get("never_expires"):
            data["expires_at"] = None
        elif not data.get("expires_at"):
            self.add_error("expires_at", "Choose when it expires, or tick 'never expires'.")
        else:
            self._clean_expiry(data, now)

    def _clean_expiry(self, data: dict, now: object) -> None:
        kind, expires_at = data.get("schedule_kind"), data["expires_at"]
        first_send = {
            ScheduleKind.AT: data.get("send_at"),
            ScheduleKind.LOCAL: data.get("local_send_at")
            and services.first_local_send(data["local_send_at"]),
        }.get(kind) or now
        if expires_at <= first_send:
            self.add_error("expires_at", "Choose an expiry after the send.")

    def _clean_languages(self, data: dict) -> None:
        default = data.get("default_language")
        if not default or self.has_error("languages"):
            return
        data["languages"] = [c for c in data.get("languages") or [] if c != default]
        try:
            self.translation_state = composition.translate_content(self.instance, data)
        except TranslationError as error:
            self.add_error("languages", f"Automatic translation failed: {error}")

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.instance.app_id is None or self.errors.get("app"):
            return
        if self.translation_state:
            self.translation_state.apply(self.instance)
        for field, messages in composition.problems(self.instance).items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)

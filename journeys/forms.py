"""The journey page's forms: the trigger, and each step's wait in minutes, hours or days; and
the app page's Segment.com shared secret."""

from __future__ import annotations

import re
from datetime import timedelta

from django import forms
from django.views.decorators.debug import sensitive_variables

from campaigns.forms import (
    CONVERSION_FIELDS,
    clean_conversion_goal,
    conversion_starts_field,
    conversion_window_field,
)
from campaigns.models import (
    Notification,
    validate_conversion_event,
    validate_value_property,
)
from journeys.models import Journey, SegmentComSource, Step, Trigger

EVENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\- ]{0,127}")
UNITS = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1)}
MAX_WAIT = timedelta(days=90)
MIN_SEGMENT_COM_SECRET = 16
MAX_SEGMENT_COM_SECRET = 256


class JourneyForm(forms.ModelForm):
    class Meta:
        model = Journey
        fields = ["app", "name", "trigger", "event_name", "segment"]

    def clean_event_name(self) -> str:
        name = self.cleaned_data["event_name"].strip()
        if name and not EVENT_NAME.fullmatch(name):
            raise forms.ValidationError(
                "An event name is 1 to 128 letters, digits, spaces or '_ . : -', starting with "
                "a letter or digit."
            )
        return name

    def clean(self) -> dict:
        data = super().clean()
        trigger, app, segment = data.get("trigger"), data.get("app"), data.get("segment")
        if trigger == Trigger.EVENT and not data.get("event_name") and "event_name" in data:
            self.add_error("event_name", "Name the event that starts the journey.")
        if trigger != Trigger.EVENT:
            data["event_name"] = ""
        if trigger == Trigger.SEGMENT_ENTRY and segment is None and "segment" in data:
            self.add_error("segment", "Choose the segment whose new members enter the journey.")
        elif trigger != Trigger.SEGMENT_ENTRY:
            data["segment"] = None
        if segment and app and segment.app_id != app.pk:
            self.add_error("segment", f"Choose a segment of {app}.")
        return data


class StepForm(forms.ModelForm):
    """A step's wait, as an amount and a unit rather than a raw duration; its conversion goal.

    The goal is the step's notification's (campaigns.conversions counts it), set here beside
    the wait so a journey's goals are read and set on one page.
    """

    # A tabular inline shows labels as column heads only, so each box names itself too.
    wait_amount = forms.IntegerField(
        label="Wait",
        min_value=0,
        max_value=MAX_WAIT.days * 24 * 60,
        widget=forms.NumberInput(attrs={"aria-label": "Wait"}),
    )
    wait_unit = forms.ChoiceField(
        label="Unit",
        choices=[(u, u) for u in UNITS],
        widget=forms.Select(attrs={"aria-label": "Wait unit"}),
    )

    conversion_event = forms.CharField(
        label="Conversion event",
        required=False,
        max_length=128,
        validators=[validate_conversion_event],
        widget=forms.TextInput(attrs={"aria-label": "Conversion event", "size": 14}),
    )
    conversion_window_minutes = conversion_window_field()
    conversion_starts = conversion_starts_field()
    conversion_value_property = forms.CharField(
        label="Value property",
        required=False,
        max_length=64,
        validators=[validate_value_property],
        widget=forms.TextInput(attrs={"aria-label": "Conversion value property", "size": 10}),
    )

    class Meta:
        model = Step
        fields = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        amount, unit = split_wait(self.instance.wait if self.instance.pk else timedelta(0))
        self.fields["wait_amount"].initial, self.fields["wait_unit"].initial = amount, unit
        self.fields["conversion_window_minutes"].widget.attrs["aria-label"] = "Conversion window"
        self.fields["conversion_starts"].widget.attrs["aria-label"] = "Conversion window starts"
        if self.instance.pk:
            notification = self.instance.notification
            for name in CONVERSION_FIELDS:
                self.fields[name].initial = getattr(notification, name)

    def clean(self) -> dict:
        data = super().clean()
        amount, unit = data.get("wait_amount"), data.get("wait_unit")
        if amount is not None and unit in UNITS:
            wait = amount * UNITS[unit]
            if wait > MAX_WAIT:
                self.add_error("wait_amount", f"Wait at most {MAX_WAIT.days} days.")
            self.instance.wait = wait
        if self.instance.pk:
            clean_conversion_goal(self, data, self.instance.notification.track_launches)
        return data

    def save(self, commit: bool = True) -> Step:
        step = super().save(commit)
        if step.pk and any(name in self.changed_data for name in CONVERSION_FIELDS):
            goal = {name: self.cleaned_data[name] for name in CONVERSION_FIELDS}
            Notification.objects.filter(pk=step.notification_id).update(**goal)
        return step


def split_wait(wait: timedelta) -> tuple[int, str]:
    """Write a wait in the largest unit that divides it: 2 days, 90 minutes, 0 minutes."""
    for unit in ("days", "hours", "minutes"):
        if wait and wait % UNITS[unit] == timedelta(0):
            return wait // UNITS[unit], unit
    return int(wait.total_seconds() // 60), "minutes"


def wait_label(wait: timedelta) -> str:
    amount, unit = split_wait(wait)
    if amount == 0:
        return "at once"
    return f"{amount} {unit[:-1] if amount == 1 else unit}"


class SegmentComSourceForm(forms.ModelForm):
    """Segment.com's shared secret, write-only: the page says when it was set, never what it is."""

    shared_secret = forms.CharField(
        label="Segment.com shared secret",
        required=False,
        strip=False,
        min_length=MIN_SEGMENT_COM_SECRET,
        max_length=MAX_SEGMENT_COM_SECRET,
        widget=forms.PasswordInput(render_value=False),
        help_text="The shared secret of Segment.com's Webhooks destination, which signs each call.",
    )
    clear_shared_secret = forms.BooleanField(
        label="Clear the Segment.com shared secret",
        required=False,
        help_text="Segment.com's calls are refused until a new secret is set.",
    )

    class Meta:
        model = SegmentComSource
        fields: list[str] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["shared_secret"]
        field.help_text = f"{_secret_note(self.instance)} {field.help_text}"

    @sensitive_variables()
    def clean(self) -> dict:
        data = super().clean()
        if data.get("shared_secret") and data.get("clear_shared_secret"):
            self.add_error(
                "clear_shared_secret",
                "Enter a new Segment.com shared secret or clear it, not both.",
            )
        return data

    @sensitive_variables()
    def save(self, commit: bool = True) -> SegmentComSource:
        source = super().save(commit=False)
        secret = self.cleaned_data.get("shared_secret")
        if secret or self.cleaned_data.get("clear_shared_secret"):
            source.store_secret(secret or "")
        if commit:
            source.save()
        return source


def _secret_note(source: SegmentComSource) -> str:
    if source.pk and source.secret_set_at:
        return f"Set on {source.secret_set_at:%Y-%m-%d %H:%M} UTC; leave empty to keep it."
    return "Not set yet."

"""The journey page's forms: the trigger, and each step's wait in minutes, hours or days."""

from __future__ import annotations

import re
from datetime import timedelta

from django import forms

from journeys.models import Journey, Step, Trigger

EVENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\- ]{0,127}")
UNITS = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1)}
MAX_WAIT = timedelta(days=90)


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
    """A step's wait, as an amount and a unit rather than a raw duration."""

    wait_amount = forms.IntegerField(label="Wait", min_value=0, max_value=MAX_WAIT.days * 24 * 60)
    wait_unit = forms.ChoiceField(label="Unit", choices=[(u, u) for u in UNITS])

    class Meta:
        model = Step
        fields = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        amount, unit = split_wait(self.instance.wait if self.instance.pk else timedelta(0))
        self.fields["wait_amount"].initial, self.fields["wait_unit"].initial = amount, unit

    def clean(self) -> dict:
        data = super().clean()
        amount, unit = data.get("wait_amount"), data.get("wait_unit")
        if amount is not None and unit in UNITS:
            wait = amount * UNITS[unit]
            if wait > MAX_WAIT:
                self.add_error("wait_amount", f"Wait at most {MAX_WAIT.days} days.")
            self.instance.wait = wait
        return data


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

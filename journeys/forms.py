"""The journey page's forms: the trigger and exits, and each step's wait in minutes, hours or
days and its ways on; and the app page's Segment.com shared secret."""

from __future__ import annotations

import re
from datetime import timedelta

from django import forms
from django.views.decorators.debug import sensitive_variables

from journeys import flow
from journeys.event_rules import RuleError
from journeys.models import END, Journey, SegmentComSource, Step, StepKind, Trigger

EVENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\- ]{0,127}")
UNITS = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1)}
MAX_WAIT = flow.MAX_WAIT
# Five names of up to 128 characters, with ", " between them.
MAX_EXIT_EVENTS_TEXT = 5 * 128 + 4 * 2
# Five key=value pairs, with ", " between them.
MAX_CONDITIONS_TEXT = 5 * (64 + 1 + flow.MAX_CONDITION_VALUE) + 4 * 2
MIN_SEGMENT_COM_SECRET = 16
MAX_SEGMENT_COM_SECRET = 256


class JourneyForm(forms.ModelForm):
    exit_events = forms.CharField(
        required=False,
        max_length=MAX_EXIT_EVENTS_TEXT,
        help_text="Events that end a person's journey at once, separated by commas "
        f"(at most {flow.MAX_EXIT_EVENTS}), such as purchase, unsubscribe.",
    )

    class Meta:
        model = Journey
        fields = ["app", "name", "trigger", "event_name", "segment", "exit_events", "exit_segment"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if "exit_events" in self.fields:
            self.initial["exit_events"] = ", ".join(self.instance.exit_events or [])

    def clean_exit_events(self) -> list[str]:
        text = self.cleaned_data["exit_events"]
        names = [name.strip() for name in text.split(",") if name.strip()]
        try:
            return flow.check_exit_events(names)
        except RuleError as error:
            raise forms.ValidationError(str(error)) from None

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
        self._clean_exits(data)
        return data

    def _clean_exits(self, data: dict) -> None:
        app = data.get("app") or getattr(self.instance, "app", None)
        exit_segment, names = data.get("exit_segment"), data.get("exit_events") or []
        if exit_segment and app and exit_segment.app_id != app.pk:
            self.add_error("exit_segment", f"Choose a segment of {app}.")
        event_name = data.get("event_name", self.instance.event_name)
        if event_name and event_name in names:
            self.add_error(
                "exit_events",
                f"{event_name!r} starts this journey, so it cannot also end it: "
                "people would leave and enter again at once.",
            )


class StepForm(forms.ModelForm):
    """A step's wait, as an amount and a unit rather than a raw duration; a wait for an event's
    event and its two ways on; a message's way on."""

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

    event_name = forms.CharField(
        label="Event",
        required=False,
        max_length=128,
        widget=forms.TextInput(attrs={"aria-label": "Event waited for", "size": 16}),
    )
    event_conditions = forms.CharField(
        label="If",
        required=False,
        max_length=MAX_CONDITIONS_TEXT,
        help_text="Optional: properties the event must have, as key=value, separated by commas.",
        widget=forms.TextInput(attrs={"aria-label": "Event properties it must have", "size": 16}),
    )
    then_way = forms.TypedChoiceField(
        label="Then",
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs={"aria-label": "Then go to"}),
    )
    else_way = forms.TypedChoiceField(
        label="Else (timed out)",
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs={"aria-label": "If it timed out, go to"}),
    )

    class Meta:
        model = Step
        fields = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        step = self.instance
        amount, unit = split_wait(step.wait if step.pk else timedelta(0))
        self.fields["wait_amount"].initial, self.fields["wait_unit"].initial = amount, unit
        ways = way_choices(step)
        for name, chosen in (("then_way", step.then_step), ("else_way", step.else_step)):
            self.fields[name].choices = ways
            self.fields[name].initial = "" if chosen is None else chosen
        self.fields["event_name"].initial = step.event_name
        # The admin fills initial values from the model, where the conditions are a dict.
        self.initial["event_conditions"] = conditions_text(step.event_conditions)
        if step.kind != StepKind.WAIT_FOR_EVENT:
            for name in ("event_name", "event_conditions", "else_way"):
                self.fields[name].disabled = True

    def clean_event_conditions(self) -> dict[str, str]:
        pairs = [pair for pair in self.cleaned_data["event_conditions"].split(",") if pair.strip()]
        if any("=" not in pair for pair in pairs):
            raise forms.ValidationError("Write each condition as key=value, separated by commas.")
        return {key.strip(): value.strip() for key, value in (p.split("=", 1) for p in pairs)}

    def clean(self) -> dict:
        data = super().clean()
        amount, unit = data.get("wait_amount"), data.get("wait_unit")
        if amount is not None and unit in UNITS:
            wait = amount * UNITS[unit]
            if wait > MAX_WAIT:
                self.add_error("wait_amount", f"Wait at most {MAX_WAIT.days} days.")
            self.instance.wait = wait
        if "then_way" in data:
            self.instance.then_step = data["then_way"]
        if self.instance.kind == StepKind.WAIT_FOR_EVENT:
            self.instance.event_name = (data.get("event_name") or "").strip()
            if "event_conditions" in data:
                self.instance.event_conditions = data["event_conditions"]
            self.instance.else_step = data.get("else_way")
        return data


# A step's form's field for each field flow.branch_errors names.
STEP_FORM_FIELDS = {
    "wait": "wait_amount",
    "event_name": "event_name",
    "event_conditions": "event_conditions",
    "then_step": "then_way",
    "else_step": "else_way",
}


class StepFormSet(forms.BaseInlineFormSet):
    """Check the steps' ways together: each must lead forward to a step that exists."""

    def clean(self) -> None:
        super().clean()
        forms_by_position = {form.instance.position: form for form in self.forms}
        steps = sorted((form.instance for form in self.forms), key=lambda s: s.position)
        for where, error in flow.branch_errors(steps).items():
            position, field = where.removeprefix("step ").split(": ")
            form = forms_by_position[int(position)]
            name = STEP_FORM_FIELDS[field]
            if name not in form.errors:
                form.add_error(name, error)


def conditions_text(conditions: dict[str, str]) -> str:
    """Write a wait's conditions as the form takes them: plan=gold, source=app."""
    return ", ".join(f"{key}={value}" for key, value in conditions.items())


def way_choices(step: Step) -> list[tuple[object, str]]:
    """Where a step may lead: the next step, the end, or any later step."""
    ways: list[tuple[object, str]] = [("", "the next step"), (END, "end the journey")]
    if step.position is None:  # the formset's blank template form
        return ways
    later = Step.objects.filter(journey_id=step.journey_id, position__gt=step.position)
    positions = later.values_list("position", flat=True)
    return [*ways, *((position, f"step {position}") for position in positions)]


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

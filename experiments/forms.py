"""The A/B test forms: the test's settings with each variant's share, and a new test."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict

from campaigns.models import Notification, Purpose, Status
from experiments import services
from experiments.models import Arm, Experiment, ExperimentStatus, WinnerMetric

SPLIT_PREFIX = "split_"
# The name of the Split evenly button, which submits the settings form.
SPLIT_EVENLY = "_split_evenly"


def split_evenly(data: QueryDict, arms: list[Arm]) -> QueryDict:
    """Return the submitted settings with the variants' shares made even.

    The split is taken from the holdout as typed; a holdout that is not a whole number the
    test allows leaves the shares as typed, and the form then says what is wrong with it.
    """
    data = data.copy()
    try:
        holdout = int(data.get("holdout_percent", ""))
    except ValueError:
        return data
    if 0 <= holdout <= services.MAX_HOLDOUT:
        for label, percent in services.even_split([arm.label for arm in arms], holdout).items():
            data[SPLIT_PREFIX + label] = str(percent)
    return data


class ExperimentForm(forms.ModelForm):
    """The test's settings; while it is a draft, one percent input per variant."""

    class Meta:
        model = Experiment
        fields = [
            "name",
            "holdout_percent",
            "winner_after_hours",
            "winner_metric",
            "conversion_event",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.arms = []
        if self.instance.pk and self.instance.status == ExperimentStatus.DRAFT:
            self.arms = services.variants(self.instance)
        for arm in self.arms:
            self.fields[SPLIT_PREFIX + arm.label] = forms.IntegerField(
                label=f"Variant {arm.label} (%)",
                min_value=0,
                max_value=100,
                initial=arm.percent,
                # The results table shows the box without its label: the box names itself.
                widget=forms.NumberInput(attrs={"aria-label": f"Variant {arm.label}'s share, %"}),
            )

    def clean_holdout_percent(self) -> int:
        holdout = self.cleaned_data["holdout_percent"]
        if holdout > services.MAX_HOLDOUT:
            raise forms.ValidationError(
                f"Holdout: at most {services.MAX_HOLDOUT}% of the audience, not {holdout}%."
            )
        return holdout

    def clean(self) -> dict:
        cleaned = super().clean()
        metric = cleaned.get("winner_metric")
        if metric == WinnerMetric.CONVERSION_RATE and not cleaned.get("conversion_event"):
            self.add_error(
                "conversion_event",
                "Conversion event: name it to pick the winner by conversion rate.",
            )
        return cleaned

    def splits(self) -> dict[str, int]:
        return {arm.label: self.cleaned_data[SPLIT_PREFIX + arm.label] for arm in self.arms}

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors or not self.arms:
            return
        for message in services.problems(self.instance, self.splits()):
            # A variant's content is checked when the test starts, not when its split is saved.
            if not message.startswith("Variant "):
                self.add_error(None, message)


class NewExperimentForm(forms.Form):
    """A new test: its name and the draft campaign notification that becomes variant A."""

    notification = forms.ModelChoiceField(
        queryset=Notification.objects.none(),
        label="Variant A",
        help_text="A draft notification; variant B starts as its copy.",
    )
    name = forms.CharField(max_length=128)

    def __init__(self, *args, apps: QuerySet, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["notification"].queryset = Notification.objects.filter(
            app__in=apps, purpose=Purpose.CAMPAIGN, status=Status.DRAFT
        ).select_related("app")
        self.fields["notification"].label_from_instance = lambda n: f"{n.app} · {n.name}"

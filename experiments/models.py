"""A/B tests: two to five variants of a notification, each sent to its share of the audience.

Each arm is a notification of its own (purpose "experiment"), so sending, statistics and
metrics pages are a campaign's. A device's arm is a pure function of the test's seed and the
device's id, computed in SQL at fan-out: the same device lands in the same arm every time.
"""

from __future__ import annotations

import random

from django.db import models

from devices.models import MobileApp
from pushcenter.isolation import ErrorMarked

MAX_VARIANTS = 5
LABELS = "ABCDE"


def _new_seed() -> int:
    return random.randrange(1, 2**31)  # noqa: S311 - a shuffle, not a secret


class WinnerMetric(models.TextChoices):
    LAUNCH_RATE = "launch_rate", "App launch rate"
    DELIVERY_RATE = "delivery_rate", "Delivery rate"
    CONVERSION_RATE = "conversion_rate", "Conversion rate (the conversion event)"


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RUNNING = "running", "Running"
    DECIDED = "decided", "Winner sent"
    CANCELLED = "cancelled", "Cancelled"


class Experiment(ErrorMarked):
    """An A/B test: its arms, its holdout and whether the winner goes to the rest."""

    app = models.ForeignKey(MobileApp, on_delete=models.CASCADE, related_name="experiments")
    name = models.CharField(max_length=128)
    status = models.CharField(
        max_length=10,
        choices=ExperimentStatus.choices,
        default=ExperimentStatus.DRAFT,
        editable=False,
    )
    holdout_percent = models.PositiveSmallIntegerField(
        "Holdout (%)",
        default=0,
        help_text="A share of the audience that gets nothing, to measure what sending changes.",
    )
    winner_after_hours = models.PositiveSmallIntegerField(
        "Send the winner after (hours)",
        null=True,
        blank=True,
        help_text="Empty: no winner send. Otherwise the best variant then goes to the rest.",
    )
    winner_metric = models.CharField(
        max_length=16, choices=WinnerMetric.choices, default=WinnerMetric.LAUNCH_RATE
    )
    conversion_event = models.CharField(
        max_length=128,
        blank=True,
        help_text="An event name, such as purchase: each arm's people who report it after the "
        "send count as conversions, the holdout's included.",
    )
    seed = models.PositiveIntegerField(default=_new_seed, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "A/B test"

    def __str__(self) -> str:
        return self.name


class ArmKind(models.TextChoices):
    VARIANT = "variant", "Variant"
    HOLDOUT = "holdout", "Holdout"
    WINNER = "winner", "Winner, to the rest"


class Arm(models.Model):
    """One share of a test's audience: a variant, the holdout or the winner's send to the rest.

    It takes the devices whose assignment, 0 to 9,999, falls in [bucket_from, bucket_to).
    """

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="arms")
    kind = models.CharField(max_length=8, choices=ArmKind.choices, default=ArmKind.VARIANT)
    label = models.CharField(max_length=16)
    percent = models.PositiveSmallIntegerField(default=0)
    bucket_from = models.PositiveSmallIntegerField(default=0)
    bucket_to = models.PositiveSmallIntegerField(default=0)
    notification = models.OneToOneField(
        "campaigns.Notification", on_delete=models.CASCADE, related_name="arm"
    )

    class Meta:
        ordering = ["experiment", "kind", "label"]

    def __str__(self) -> str:
        return f"{self.experiment} · {self.label}"

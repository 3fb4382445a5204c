"""A/B tests for the dashboard: make one from a notification, add variants, split, start.

A test starts by scheduling its arms: every variant takes variant A's audience, filters and
schedule; the holdout is an arm whose devices are all recorded as skipped.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from campaigns import composition
from campaigns import services as notifications
from campaigns.extensions import PartOf
from campaigns.models import Notification, Purpose, ScheduleKind, Status
from experiments.assignment import BUCKETS, PURPOSE
from experiments.models import (
    LABELS,
    MAX_VARIANTS,
    Arm,
    ArmKind,
    Experiment,
    ExperimentStatus,
    WinnerMetric,
)

# What every variant takes from variant A when the test starts: who, when and until when.
SHARED_FIELDS = (
    "target_kind",
    "install_ids",
    "user_ids",
    "filter_languages",
    "filter_time_zones",
    "category",
    "schedule_kind",
    "send_at",
    "local_send_at",
    "expires_at",
)
MAX_HOLDOUT = 50


@transaction.atomic
def create(
    name: str, control: Notification, author: AbstractBaseUser | None, variants: int = 2
) -> Experiment:
    """Make a test whose variant A is the given draft and whose others start as its copies."""
    if control.status != Status.DRAFT or control.purpose != Purpose.CAMPAIGN:
        raise ValidationError("Start an A/B test from a draft notification that is in no test.")
    experiment = Experiment.objects.create(app=control.app, name=name)
    control.purpose = PURPOSE
    control.save(update_fields=["purpose", "updated_at"])
    Arm.objects.create(experiment=experiment, label="A", notification=control)
    for _ in range(variants - 1):
        add_variant(experiment, author)
    split_evenly(experiment)
    return experiment


def variants(experiment: Experiment) -> list[Arm]:
    arms = experiment.arms.filter(kind=ArmKind.VARIANT).select_related("notification")
    return sorted(arms, key=lambda arm: arm.label)


def control(experiment: Experiment) -> Arm:
    return variants(experiment)[0]


@transaction.atomic
def add_variant(experiment: Experiment, author: AbstractBaseUser | None) -> Arm:
    """Add a variant as a copy of variant A, for the marketer to change."""
    _require_draft(experiment)
    arms = variants(experiment)
    if len(arms) >= MAX_VARIANTS:
        raise ValidationError(f"An A/B test has at most {MAX_VARIANTS} variants.")
    label = next(label for label in LABELS if label not in {arm.label for arm in arms})
    copy = notifications.duplicate(arms[0].notification, author)
    copy.name = f"{experiment.name} · {label}"[:128]
    copy.purpose = PURPOSE
    copy.save(update_fields=["name", "purpose", "updated_at"])
    return Arm.objects.create(experiment=experiment, label=label, notification=copy)


@transaction.atomic
def remove_variant(arm: Arm) -> None:
    """Remove a variant (not A) while the test is a draft; its notification goes with it."""
    _require_draft(arm.experiment)
    if arm.label == "A" or arm.kind != ArmKind.VARIANT:
        raise ValidationError("Variant A is the test's base; it cannot be removed.")
    if len(variants(arm.experiment)) <= 2:
        raise ValidationError("An A/B test needs at least two variants.")
    arm.notification.delete()


def even_split(labels: list[str], holdout_percent: int) -> dict[str, int]:
    """Share what the holdout leaves equally among the labels; the first takes the remainder.

    pushcenter/static/experiments/split_evenly.js does the same in the page.
    """
    share, remainder = divmod(100 - holdout_percent, len(labels))
    return {label: share + (remainder if index == 0 else 0) for index, label in enumerate(labels)}


def split_evenly(experiment: Experiment) -> None:
    """Share what the holdout leaves equally among the variants (A takes the remainder)."""
    arms = variants(experiment)
    split = even_split([arm.label for arm in arms], experiment.holdout_percent)
    for arm in arms:
        arm.percent = split[arm.label]
        arm.save(update_fields=["percent"])
    assign_buckets(experiment)


def assign_buckets(experiment: Experiment) -> None:
    """Lay the arms side by side over 0–9,999: variants in order, then the holdout."""
    start = 0
    for arm in variants(experiment):
        arm.bucket_from, start = start, start + arm.percent * BUCKETS // 100
        arm.bucket_to = start
        arm.save(update_fields=["bucket_from", "bucket_to"])


def problems(experiment: Experiment, splits: dict[str, int] | None = None) -> list[str]:
    """List why the test cannot start as it is (or with these variant percentages)."""
    arms = variants(experiment)
    splits = splits or {arm.label: arm.percent for arm in arms}
    found = []
    if not 2 <= len(arms) <= MAX_VARIANTS:
        found.append(f"An A/B test has 2 to {MAX_VARIANTS} variants.")
    if any(percent < 1 for percent in splits.values()):
        found.append("Give every variant at least 1% of the audience.")
    if experiment.holdout_percent > MAX_HOLDOUT:
        found.append(f"The holdout is at most {MAX_HOLDOUT}% of the audience.")
    used = sum(splits.values()) + experiment.holdout_percent
    if experiment.winner_after_hours is None and used != 100:
        found.append(
            f"The variants and the holdout take {used}%: make it 100%, or send the winner to "
            "the rest after a set time."
        )
    elif experiment.winner_after_hours is not None and used >= 100:
        found.append(
            f"The variants and the holdout take {used}%: leave some of the audience for the winner."
        )
    if experiment.winner_metric == WinnerMetric.CONVERSION_RATE and not experiment.conversion_event:
        found.append("Name the conversion event, or pick the winner by another rate.")
    for arm in arms:
        for messages in composition.problems(arm.notification).values():
            found.extend(f"Variant {arm.label}: {message}" for message in messages)
    return found


@transaction.atomic
def start(experiment: Experiment) -> None:
    """Schedule every arm with variant A's audience and schedule; the holdout gets nothing."""
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    _require_draft(experiment)
    found = problems(experiment)
    if found:
        raise ValidationError(found)
    assign_buckets(experiment)
    arms = variants(experiment)
    base = arms[0].notification
    if experiment.holdout_percent:
        arms.append(_holdout(experiment, base, arms[-1].bucket_to))
    for arm in arms:
        _share_audience(base, arm.notification)
        notifications.save(arm.notification, schedule=True)
    experiment.status, experiment.started_at = ExperimentStatus.RUNNING, timezone.now()
    experiment.save(update_fields=["status", "started_at", "updated_at"])


@transaction.atomic
def cancel(experiment: Experiment) -> None:
    """Stop a test whose arms have not started sending; they are kept as cancelled."""
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    arms = [arm.notification for arm in experiment.arms.select_related("notification")]
    if any(not n.is_editable for n in arms) or experiment.status == ExperimentStatus.CANCELLED:
        raise ValidationError("This A/B test has started sending; it can no longer be cancelled.")
    for notification in arms:
        if notification.status == Status.SCHEDULED:
            notifications.cancel(notification, by_its_owner=True)
    experiment.status = ExperimentStatus.CANCELLED
    experiment.save(update_fields=["status", "updated_at"])


def describe_arm(notification: Notification) -> PartOf:
    """Name the test an arm's notification belongs to, for the notification's page."""
    arm = notification.arm
    shared = (
        "Its audience, schedule and expiry are variant A's."
        if arm.label != "A"
        else "Every variant takes this audience, schedule and expiry when the test starts."
    )
    return PartOf(
        what=f"{arm.label} of the A/B test {arm.experiment}",
        url=reverse("admin:experiments_experiment_change", args=[arm.experiment_id]),
        note=f"{shared} The test sends it.",
    )


def arm_notifications(experiment: Experiment) -> QuerySet[Notification]:
    """The notifications of the test's arms."""
    return Notification.objects.filter(arm__experiment=experiment)


@transaction.atomic
def delete(experiment: Experiment) -> None:
    """Delete a test with its arms' notifications, their deliveries and figures."""
    arm_notifications(experiment).delete()
    experiment.delete()


def send_winner(experiment: Experiment, winner: Arm) -> Arm:
    """Send the winning variant, now, to the part of the audience no arm took."""
    taken = max(arm.bucket_to for arm in experiment.arms.all())
    copy = notifications.duplicate(winner.notification, None)
    copy.name = f"{experiment.name} · winner ({winner.label})"[:128]
    copy.purpose = PURPOSE
    copy.schedule_kind, copy.send_at, copy.local_send_at = ScheduleKind.NOW, None, None
    if copy.expires_at and copy.expires_at <= timezone.now():
        copy.expires_at = None
    copy.save()
    arm = Arm.objects.create(
        experiment=experiment,
        kind=ArmKind.WINNER,
        label=f"Winner ({winner.label})",
        percent=100 - round(taken * 100 / BUCKETS),
        bucket_from=taken,
        bucket_to=BUCKETS,
        notification=copy,
    )
    notifications.save(copy, schedule=True)
    experiment.status, experiment.decided_at = ExperimentStatus.DECIDED, timezone.now()
    experiment.save(update_fields=["status", "decided_at", "updated_at"])
    return arm


def _holdout(experiment: Experiment, base: Notification, start: int) -> Arm:
    copy = notifications.duplicate(base, None)
    copy.name = f"{experiment.name} · holdout"[:128]
    copy.purpose = PURPOSE
    copy.save(update_fields=["name", "purpose", "updated_at"])
    end = start + experiment.holdout_percent * BUCKETS // 100
    return Arm.objects.create(
        experiment=experiment,
        kind=ArmKind.HOLDOUT,
        label="Holdout",
        percent=experiment.holdout_percent,
        bucket_from=start,
        bucket_to=end,
        notification=copy,
    )


def _share_audience(base: Notification, arm: Notification) -> None:
    for name in SHARED_FIELDS:
        setattr(arm, name, getattr(base, name))
    if arm.pk != base.pk:
        arm.segments.set(base.segments.all())


def _require_draft(experiment: Experiment) -> None:
    if experiment.status != ExperimentStatus.DRAFT:
        raise ValidationError(
            f"This A/B test is {experiment.get_status_display().lower()}; its variants and "
            "split can no longer change."
        )

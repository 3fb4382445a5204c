"""A journey's numbers: who is in it, each step's deliveries, launches, conversions, waits, exits.

A message step's figures come from its rollup (metrics/), kept current while the journey runs;
a wait's ways out are counted on the step as people go; who waits at a step now and who left
the journey at it come from one GROUP BY over the journey's enrollments.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.db.models import Count

from campaigns import statistics
from journeys import flow
from journeys.forms import wait_label
from journeys.models import EndReason, EnrollmentStatus, Journey, Step, StepKind
from metrics.models import NotificationSummary


@dataclass(frozen=True)
class StepResult:
    step: Step
    wait: str
    reached: int
    sent: int
    skipped: int
    delivery_rate: float | None
    launches: int
    launch_rate: float | None
    conversions: int
    conversion_rate: float | None
    conversion_value: Decimal | None
    # Filled in by steps(): where its ways lead, who is at it now, who left at it and why.
    then_label: str = ""
    else_label: str = ""
    waiting: int = 0
    exited: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Where:
    """Enrollments counted by where they are (or left) and how: one GROUP BY's rows."""

    waiting: dict[int, int]
    exited: dict[int, dict[str, int]]


def enrollments(journey: Journey) -> dict[str, int]:
    """Count the journey's enrollments by status."""
    counted = journey.enrollments.values_list("status").annotate(n=Count("id")).order_by()
    return dict(counted)


def ended(journey: Journey) -> dict[str, int]:
    """Count the journey's ended enrollments by why they ended, labelled."""
    labels = dict(EndReason.choices)
    return {labels[reason]: n for reason, n in ended_by_reason(journey).items()}


def ended_by_reason(journey: Journey) -> dict[str, int]:
    """Count the journey's ended enrollments by why they ended (EndReason)."""
    ends = journey.enrollments.exclude(ended_reason="").values_list("ended_reason")
    return dict(ends.annotate(n=Count("id")).order_by())


def steps(journey: Journey) -> list[StepResult]:
    """Each step's figures, in order."""
    ordered = list(journey.steps.select_related("notification__summary"))
    where = _where(journey)
    return [_with_flow(ordered, step, _result(step), where) for step in ordered]


def _where(journey: Journey) -> Where:
    rows = (
        journey.enrollments.filter(status__in=[EnrollmentStatus.ACTIVE, EnrollmentStatus.EXITED])
        .values_list("next_position", "status", "ended_reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    waiting: dict[int, int] = {}
    exited: dict[int, dict[str, int]] = defaultdict(dict)
    labels = dict(EndReason.choices)
    for position, status, reason, n in rows:
        if status == EnrollmentStatus.ACTIVE:
            waiting[position] = n
        else:
            exited[position][labels.get(reason, reason)] = n
    return Where(waiting, dict(exited))


def _with_flow(ordered: list[Step], step: Step, result: StepResult, where: Where) -> StepResult:
    else_label, reached = "", result.reached
    waiting, exited = where.waiting.get(step.position, 0), where.exited.get(step.position, {})
    if step.kind == StepKind.WAIT_FOR_EVENT:
        else_label = way_label(flow.target(ordered, step, step.else_step))
        reached += waiting + sum(exited.values())
    return replace(
        result,
        reached=reached,
        then_label=way_label(flow.target(ordered, step, step.then_step)),
        else_label=else_label,
        waiting=waiting,
        exited=exited,
    )


def way_label(step: Step | None) -> str:
    """Name where a way leads: "step 3" or "the end"."""
    return f"step {step.position}" if step else "the end"


def _result(step: Step) -> StepResult:
    if step.notification is None:
        reached = step.event_came + step.timed_out
        return StepResult(step, wait_label(step.wait), reached, 0, 0, None, 0, None, 0, None, None)
    try:
        summary = step.notification.summary
    except NotificationSummary.DoesNotExist:
        summary = None
    if summary is None:
        totals = statistics.summary(step.notification)
        return StepResult(
            step,
            wait_label(step.wait),
            totals["targeted"],
            totals["sent"],
            totals["skipped"],
            totals["delivery_rate"],
            totals["launches"],
            totals["launch_rate"],
            totals["conversions"],
            totals["conversion_rate"],
            totals["conversion_value"],
        )
    return StepResult(
        step,
        wait_label(step.wait),
        summary.targeted,
        summary.sent,
        summary.skipped,
        summary.delivery_rate,
        summary.launches,
        summary.launch_rate,
        summary.conversions,
        summary.conversion_rate,
        summary.conversion_value,
    )

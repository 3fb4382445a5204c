"""A journey's numbers: who is in it, and each step's deliveries, launches, conversions, rates.

Step figures come from the steps' rollups (metrics/), kept current while the journey runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count

from campaigns import statistics
from journeys.forms import wait_label
from journeys.models import Journey, Step
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


def enrollments(journey: Journey) -> dict[str, int]:
    """Count the journey's enrollments by status."""
    counted = journey.enrollments.values_list("status").annotate(n=Count("id")).order_by()
    return dict(counted)


def steps(journey: Journey) -> list[StepResult]:
    """Each step's figures, in order."""
    return [_result(step) for step in journey.steps.select_related("notification__summary")]


def _result(step: Step) -> StepResult:
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

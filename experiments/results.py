"""An A/B test's numbers: each arm's rates, compared with variant A (or the holdout).

Rates come from the arms' rollups (metrics/), as every metrics page's do. A difference is
called significant when a two-sided two-proportion z-test gives p < 0.05.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from campaigns import statistics
from campaigns.models import ATTEMPTED_DELIVERY_STATUSES, Delivery, DeliveryStatus
from events.models import Event
from experiments import services
from experiments.models import Arm, ArmKind, Experiment, ExperimentStatus, WinnerMetric

SIGNIFICANCE = 0.05
# Fewer trials than this in either arm and no test is run: the normal approximation is poor.
MIN_TRIALS = 30


@dataclass(frozen=True)
class Rate:
    """Successes out of trials, and how it compares with the reference arm's rate."""

    successes: int
    trials: int
    p_value: float | None = None

    @property
    def value(self) -> float | None:
        return self.successes / self.trials if self.trials else None

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < SIGNIFICANCE


@dataclass
class ArmResult:
    """An arm's audience, rates, deliveries still under way and skipped ones by reason."""

    arm: Arm
    targeted: int
    rates: dict[str, Rate] = field(default_factory=dict)
    sending: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        return self.rates[WinnerMetric.LAUNCH_RATE].trials


def results(experiment: Experiment) -> list[ArmResult]:
    """Each arm's audience and rates, variants compared with A, conversions with the holdout."""
    arms = list(experiment.arms.select_related("notification__summary"))
    arms.sort(key=lambda arm: (list(ArmKind.values).index(arm.kind), arm.label))
    found = [_measured(experiment, arm) for arm in arms]
    control = next((r for r in found if r.arm.label == "A"), None)
    holdout = next((r for r in found if r.arm.kind == ArmKind.HOLDOUT), None)
    for result in found:
        for metric in (WinnerMetric.DELIVERY_RATE, WinnerMetric.LAUNCH_RATE):
            _compare(result, control, metric)
        _compare(result, holdout or control, WinnerMetric.CONVERSION_RATE)
    return found


def best_variant(experiment: Experiment) -> Arm | None:
    """The variant with the highest rate on the test's metric (A on a tie); None without data."""
    variants = [r for r in results(experiment) if r.arm.kind == ArmKind.VARIANT]
    measured = [r for r in variants if r.rates[experiment.winner_metric].value is not None]
    if not measured:
        return None
    return max(
        measured, key=lambda r: (r.rates[experiment.winner_metric].value, -ord(r.arm.label[0]))
    ).arm


def due_for_winner(experiment: Experiment, now: datetime) -> bool:
    """Tell whether the test's winner should go out now: its set time after A started."""
    if experiment.status != ExperimentStatus.RUNNING or experiment.winner_after_hours is None:
        return False
    started = services.control(experiment).notification.started_at
    return started is not None and (now - started).total_seconds() >= (
        experiment.winner_after_hours * 3600
    )


def p_value(a: Rate, b: Rate) -> float | None:
    """Two-sided p-value of a pooled two-proportion z-test; None when it cannot be run."""
    if min(a.trials, b.trials) < MIN_TRIALS:
        return None
    pooled = (a.successes + b.successes) / (a.trials + b.trials)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials))
    if spread == 0:
        return 1.0
    z = abs(a.successes / a.trials - b.successes / b.trials) / spread
    return math.erfc(z / math.sqrt(2))


def _measured(experiment: Experiment, arm: Arm) -> ArmResult:
    notification = arm.notification
    summary = getattr(notification, "summary", None)
    totals = (
        {
            "targeted": summary.targeted,
            "sending": summary.sending,
            "sent": summary.sent,
            "attempted": summary.attempted,
            "launches": summary.launches,
            "skipped_reasons": summary.skipped_reasons,
        }
        if summary
        else _live_totals(notification)
    )
    result = ArmResult(
        arm=arm,
        targeted=totals["targeted"],
        sending=totals["sending"],
        # The rollup keeps them as JSON, whose keys need not keep their order: most first.
        skipped=dict(sorted(totals["skipped_reasons"].items(), key=lambda item: -item[1])),
    )
    result.rates[WinnerMetric.DELIVERY_RATE] = Rate(totals["sent"], totals["attempted"])
    result.rates[WinnerMetric.LAUNCH_RATE] = Rate(totals["launches"], totals["sent"])
    result.rates[WinnerMetric.CONVERSION_RATE] = Rate(
        _conversions(experiment, arm), totals["targeted"]
    )
    return result


def _live_totals(notification) -> dict[str, int]:
    totals = statistics.summary(notification)
    attempted = sum(totals[status] for status in ATTEMPTED_DELIVERY_STATUSES)
    return {**totals, "attempted": attempted}


def _conversions(experiment: Experiment, arm: Arm) -> int:
    """Count the arm's devices that reported the conversion event after its send started."""
    started = arm.notification.started_at
    if not experiment.conversion_event or started is None:
        return 0
    devices = Delivery.objects.filter(notification=arm.notification).exclude(
        status=DeliveryStatus.EXPIRED
    )
    converted = Event.objects.filter(
        app=experiment.app,
        name=experiment.conversion_event,
        occurred_at__gte=started,
        device_id__in=devices.values("device_id"),
    )
    return converted.values("device_id").distinct().count()


def _compare(result: ArmResult, reference: ArmResult | None, metric: str) -> None:
    if reference is None or reference is result:
        return
    mine, theirs = result.rates[metric], reference.rates[metric]
    result.rates[metric] = Rate(mine.successes, mine.trials, p_value(mine, theirs))

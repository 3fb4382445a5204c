"""The A/B tests' Celery task: Beat runs it each sweep to send winners whose time has come."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from experiments import results, services
from experiments.models import Experiment, ExperimentStatus
from metrics import rollup
from pushcenter import isolation


@shared_task(name="experiments.decide", ignore_result=True)
def decide() -> None:
    """Send each due test's best variant to the rest of its audience (once: the row is locked)."""
    now = timezone.now()
    running = Experiment.objects.filter(
        status=ExperimentStatus.RUNNING, winner_after_hours__isnull=False
    )
    for experiment_id in running.values_list("pk", flat=True):
        # Each test in its own boundary: one that fails is marked and the others decide.
        with isolation.boundary(Experiment, experiment_id):
            _decide(experiment_id, now)


def _decide(experiment_id: int, now: datetime) -> None:
    """Send one test's winner if its time has come (inside the caller's transaction)."""
    experiment = Experiment.objects.select_for_update().get(pk=experiment_id)
    if not results.due_for_winner(experiment, now):
        return
    for arm in services.variants(experiment):
        rollup.refresh(arm.notification)
    winner = results.best_variant(experiment) or services.control(experiment)
    services.send_winner(experiment, winner)

"""The A/B tests' Celery task: Beat runs it each sweep to send winners whose time has come."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from experiments import results, services
from experiments.models import Experiment, ExperimentStatus
from metrics import rollup


@shared_task(name="experiments.decide", ignore_result=True)
def decide() -> None:
    """Send each due test's best variant to the rest of its audience (once: the row is locked)."""
    now = timezone.now()
    running = Experiment.objects.filter(
        status=ExperimentStatus.RUNNING, winner_after_hours__isnull=False
    )
    for experiment_id in running.values_list("pk", flat=True):
        with transaction.atomic():
            experiment = Experiment.objects.select_for_update().get(pk=experiment_id)
            if not results.due_for_winner(experiment, now):
                continue
            for arm in services.variants(experiment):
                rollup.refresh(arm.notification)
            winner = results.best_variant(experiment) or services.control(experiment)
            services.send_winner(experiment, winner)

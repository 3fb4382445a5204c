"""Give each item a periodic task walks its own error boundary, so one cannot stop the others.

Beat runs each task for every app at once: a journey, segment or notification that raises must
not keep the next one (another app's, often) from running. Each item's work runs in its own
savepoint, so on PostgreSQL its failure leaves the task's transaction usable; the failure is
logged with the item's id and written on the item (`last_error`, `last_error_at`, shown on its
page), and cleared when the item's work next runs fine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 1000


class ErrorMarked(models.Model):
    """An item periodic work runs on: its last failure, shown on its page until a good run."""

    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True


@dataclass
class ItemRun:
    """How an item's work ended: error is "" when it ran fine."""

    error: str = ""


@contextmanager
def boundary(model: type[ErrorMarked], pk: int, *, mark: bool = True) -> Iterator[ItemRun]:
    """Run the block as one item's work: a failure is logged, marked on the item and swallowed.

    `mark=False` only logs, for work (such as a metrics rollup) that is not the item's own.
    """
    outcome = ItemRun()
    try:
        with transaction.atomic():
            yield outcome
    # Any error: this boundary exists for the failure nobody foresaw (an overflow in a
    # definition stored before its rule), which must cost one item its run, not every app.
    except Exception as error:  # noqa: BLE001
        outcome.error = describe(error)
        logger.exception("%s %s failed: %s", model._meta.verbose_name, pk, outcome.error)
        if mark:
            mark_error(model, pk, outcome.error)
        return
    if mark:
        clear_error(model, pk)


def describe(error: BaseException) -> str:
    """Say what went wrong in a line for the item's page.

    A broken rule (ValueError, ValidationError) speaks for itself; anything else is a bug,
    named by its type for whoever reads the logs.
    """
    if isinstance(error, ValidationError):
        text = " ".join(error.messages)
    elif isinstance(error, ValueError):
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    return text[:MAX_ERROR_LENGTH]


def mark_error(model: type[ErrorMarked], pk: int, error: str) -> None:
    """Write the failure on the item."""
    model.objects.filter(pk=pk).update(last_error=error, last_error_at=timezone.now())


def clear_error(model: type[ErrorMarked], pk: int) -> None:
    """Forget a failure once the item's work runs fine (no write when there was none)."""
    model.objects.filter(pk=pk).exclude(last_error="").update(last_error="", last_error_at=None)

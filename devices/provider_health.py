"""Pause an app's provider while it keeps failing, so its sends wait instead of burning retries.

A batch in which every push came back retryable (429, 5xx, a timeout, refused credentials)
is a failure of the provider, not of the devices. After PAUSE_AFTER such batches in a row the
provider pauses, twice as long each further time; one batch that gets through resets it.
Other providers of the app, and other apps, go on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from devices.models import MobileApp, ProviderHealth
from devices.providers.base import Outcome, Result

PAUSE_AFTER = 3
PAUSE_BASE = timedelta(minutes=1)
PAUSE_MAX = timedelta(minutes=30)
PROVIDER_FAILURES = (Outcome.RETRY, Outcome.AUTH_FAILED)


def paused_until(app: MobileApp, platform: str) -> datetime | None:
    """Return when the paused provider resumes, or None if it is not paused."""
    until = (
        ProviderHealth.objects.filter(app=app, platform=platform, paused_until__gt=timezone.now())
        .values_list("paused_until", flat=True)
        .first()
    )
    return until


def record(app: MobileApp, platform: str, results: list[Result]) -> None:
    """Count a batch that failed as a whole; a batch that got through resets the count."""
    if not results:
        return
    if any(result.outcome not in PROVIDER_FAILURES for result in results):
        ProviderHealth.objects.filter(app=app, platform=platform, failures__gt=0).update(
            failures=0, paused_until=None, updated_at=timezone.now()
        )
        return
    _count_failure(app, platform, results)


@transaction.atomic
def _count_failure(app: MobileApp, platform: str, results: list[Result]) -> None:
    health, _ = ProviderHealth.objects.select_for_update().get_or_create(app=app, platform=platform)
    health.failures += 1
    last = results[-1]
    health.last_error = " ".join(filter(None, [str(last.status or ""), last.reason, last.detail]))
    health.last_error = health.last_error[:300]
    if health.failures >= PAUSE_AFTER:
        pause = min(PAUSE_BASE * 2 ** (health.failures - PAUSE_AFTER), PAUSE_MAX)
        asked = max((r.retry_after or 0 for r in results), default=0)
        health.paused_until = timezone.now() + max(pause, timedelta(seconds=asked))
    health.save()

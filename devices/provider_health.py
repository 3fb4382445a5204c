"""Keep an app's provider from hurting its audience: pause it while it fails, hold it when its
answers would retire the audience.

Pause. A batch whose every answer is the provider's own trouble (5xx, UNAVAILABLE,
QUOTA_EXCEEDED, a refused credential, the provider's host out of reach) counts as a failure of
the provider. After PAUSE_AFTER such batches in a row the provider pauses, twice as long each
further time; one batch that gets through resets it. Answers about one device (APNs 429 for one
token, a WNS channel host that does not answer, a 400 for one message) prove the provider is
answering, so they never pause it; nor does a batch of fewer than PAUSE_MINIMUM answers unless
the provider refused our credential itself, which one answer proves.

Hold. When the answers that retire a device (APNs BadDeviceToken, DeviceTokenNotForTopic,
Unregistered; FCM UNREGISTERED; WNS 404/410) come back for most of a batch, the credential is
more likely wrong than the audience gone: APNs answers BadDeviceToken for every token of the
other environment (Apple's "Handling notification responses from APNs": "Verify that the
request contains a valid token and that the token matches the environment"),
DeviceTokenNotForTopic for a wrong bundle ID, FCM SENDER_ID_MISMATCH for every token of another
Firebase project (FCM "ErrorCode" reference). Nobody is retired; the
provider is suspended with the provider's words and the likely cause, until the credential
changes or an administrator says it is right (then retirements go on for TRUST_PERIOD).

Other providers of the app, and other apps, go on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from devices.models import MobileApp, ProviderHealth
from devices.providers.base import Outcome, Result

PAUSE_AFTER = 3
PAUSE_BASE = timedelta(minutes=1)
PAUSE_MAX = timedelta(minutes=30)
PAUSE_MINIMUM = 5
PROVIDER_FAILURES = (Outcome.RETRY, Outcome.AUTH_FAILED)
# Refusals of our own credential or provider token: no device can cause these, so one answer
# is enough to count the batch (APNs "Handling notification responses from APNs", FCM
# ErrorCode, WNS 401 "Unauthorized" after a fresh token).
CREDENTIAL_REFUSALS = frozenset(
    {
        "BadCertificate",
        "BadCertificateEnvironment",
        "ExpiredProviderToken",
        "InvalidProviderToken",
        "MissingProviderToken",
        "TooManyProviderTokenUpdates",
        "UNAUTHENTICATED",
        "PERMISSION_DENIED",
        "THIRD_PARTY_AUTH_ERROR",
        "Unauthorized",
    }
)
# The hold: at least HOLD_SHARE of at least HOLD_MINIMUM answers would retire their device,
# or every answer of a send's first batch when there are at least FIRST_BATCH_MINIMUM (a
# transactional send to one uninstalled app must not hold a whole provider).
HOLD_SHARE = 0.5
HOLD_MINIMUM = 20
FIRST_BATCH_MINIMUM = 5
TRUST_PERIOD = timedelta(hours=24)
# Refusals that name a device but, across a batch, say the credential is another app's or
# project's: FCM SENDER_ID_MISMATCH, WNS 403 Forbidden. They never retire a device anyway.
MISDIRECTED_REASONS = frozenset({"SENDER_ID_MISMATCH", "Forbidden", "Domain Blocked"})
# A held provider's deliveries look again this often (its credential's change resumes them at
# once through provider_resumed; this is the safety net).
HELD_RECHECK = timedelta(minutes=15)
# What a provider's retiring answer most likely means when most of a batch gives it.
LIKELY_CAUSES = {
    "BadDeviceToken": "the APNs environment (Production or Sandbox) of the credential may not "
    "match the builds that registered these tokens",
    "DeviceTokenNotForTopic": "the bundle ID (APNs topic) may not be the app's",
    "Unregistered": "the bundle ID or environment may not be the app's",
    "UNREGISTERED": "the service account may belong to another Firebase project than the app",
    "INVALID_ARGUMENT": "the service account may belong to another Firebase project than the app",
    "SENDER_ID_MISMATCH": "the service account belongs to another Firebase project than the "
    "one the app's tokens were issued for",
    "Forbidden": "the Azure app registration may not be the one the app's channels belong to",
    "Domain Blocked": "WNS has blocked the sending domain; ask Microsoft why",
    "Not Found": "the Azure app registration may not be the one the app's channels belong to",
    "Gone": "the Azure app registration may not be the one the app's channels belong to",
}

# How a waiting delivery's reason starts, so that resuming finds exactly these.
HELD = "Held:"
PAUSED = "Paused: the provider failed"
WAITING_REASONS = (HELD, PAUSED)

# Sent when a held or paused provider may send again (its credential changed, or was trusted).
provider_resumed = Signal()  # sender: ProviderHealth; kwargs: app, platform


def waiting_until(app: MobileApp, platform: str) -> tuple[datetime, str] | None:
    """Return until when the app's provider waits and why, or None when it may send."""
    health = ProviderHealth.objects.filter(app=app, platform=platform).first()
    now = timezone.now()
    if health is None:
        return None
    if health.suspended_at is not None:
        return now + HELD_RECHECK, f"{HELD} {health.suspect_reason}"[:300]
    if health.paused_until and health.paused_until > now:
        return health.paused_until, f"{PAUSED} {health.failures} batches in a row"
    return None


def record(app: MobileApp, platform: str, results: list[Result]) -> None:
    """Count a batch that failed as a whole; a batch that got through resets the count."""
    if not results:
        return
    if not all(result.outcome in PROVIDER_FAILURES for result in results):
        ProviderHealth.objects.filter(app=app, platform=platform, failures__gt=0).update(
            failures=0, paused_until=None, updated_at=timezone.now()
        )
        return
    refused = any(result.reason in CREDENTIAL_REFUSALS for result in results)
    if refused or len(results) >= PAUSE_MINIMUM:
        _count_failure(app, platform, results)


@transaction.atomic
def _count_failure(app: MobileApp, platform: str, results: list[Result]) -> None:
    health, _ = ProviderHealth.objects.select_for_update().get_or_create(app=app, platform=platform)
    health.failures += 1
    health.last_error = said(results[-1])[:300]
    if health.failures >= PAUSE_AFTER:
        pause = min(PAUSE_BASE * 2 ** (health.failures - PAUSE_AFTER), PAUSE_MAX)
        asked = max((r.retry_after or 0 for r in results), default=0)
        health.paused_until = timezone.now() + max(pause, timedelta(seconds=asked))
    health.save()


def said(result: Result) -> str:
    """Put the provider's answer in one line: status, reason, detail."""
    return " ".join(filter(None, [str(result.status or ""), result.reason, result.detail]))


def should_hold(
    app: MobileApp, platform: str, results: list[Result], first_batch: Callable[[], bool]
) -> bool:
    """Tell whether a batch's retiring answers point at the credential rather than the devices.

    `first_batch()` says whether these are the first answers of a send for this provider; it
    is asked only when every answer would retire its device.
    """
    retiring = sum(map(is_misdirected, results))
    mostly = retiring >= HOLD_MINIMUM and retiring >= HOLD_SHARE * len(results)
    every = retiring == len(results) >= FIRST_BATCH_MINIMUM
    if not (mostly or (every and first_batch())):
        return False
    return not ProviderHealth.objects.filter(
        app=app, platform=platform, trusted_until__gt=timezone.now()
    ).exists()


def is_misdirected(result: Result) -> bool:
    """Tell whether an answer says the device is gone, or not this credential's to reach."""
    return result.outcome == Outcome.DEVICE_GONE or result.reason in MISDIRECTED_REASONS


def hold(app: MobileApp, platform: str, results: list[Result], provider: str) -> str:
    """Suspend the app's provider and say why: the provider's words and the likely cause."""
    retiring = [result for result in results if is_misdirected(result)]
    reason = retiring[0].reason
    cause = LIKELY_CAUSES.get(reason, "the credential may not be the app's")
    text = (
        f"{provider} answered {reason or 'that the device is gone'} for {len(retiring)} of "
        f"{len(results)} devices ({said(retiring[0])}); {cause}. No device was retired: "
        "correct the credential to resume, or confirm it is right to retire them."
    )
    with transaction.atomic():
        health, _ = ProviderHealth.objects.select_for_update().get_or_create(
            app=app, platform=platform
        )
        if health.suspended_at is None:
            health.suspended_at = timezone.now()
            health.suspect_reason = text
            health.save()
        return health.suspect_reason


def resume(app: MobileApp, platform: str, *, trusted: bool = False) -> None:
    """Let the provider send again: its credential changed, or an administrator trusts it."""
    health = ProviderHealth.objects.filter(app=app, platform=platform).first()
    if health is None:
        return
    was_waiting = health.suspended_at is not None or health.paused_until is not None
    health.suspended_at, health.suspect_reason = None, ""
    health.failures, health.paused_until = 0, None
    health.trusted_until = timezone.now() + TRUST_PERIOD if trusted else None
    health.save()
    if was_waiting:
        provider_resumed.send(sender=ProviderHealth, app=app, platform=platform)

"""Idempotency keys of the Push API: a retried POST never sends twice.

A key belongs to one app for 24 hours. The same key with the same body answers the
notification the first request created; with another body it is refused. Two requests
racing with one key meet at the unique constraint: the loser's notification is rolled back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.models import IdempotencyKey, Notification
from devices.models import MobileApp

LIFETIME = timedelta(hours=24)


class KeyReused(Exception):
    """The key was used with a different body."""


def body_hash(body: object) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def create_once(
    app: MobileApp, key: str, body: object, create: Callable[[], Notification]
) -> tuple[Notification, bool]:
    """Return the key's notification, creating it with `create` the first time (then True)."""
    digest = body_hash(body)
    IdempotencyKey.objects.filter(app=app, created_at__lt=timezone.now() - LIFETIME).delete()
    stored = _stored(app, key)
    if stored is not None:
        return _replayed(stored, digest), False
    try:
        with transaction.atomic():
            notification = create()
            IdempotencyKey.objects.create(
                app=app, key=key, body_hash=digest, notification=notification
            )
    except IntegrityError:
        return _replayed(IdempotencyKey.objects.get(app=app, key=key), digest), False
    return notification, True


def _stored(app: MobileApp, key: str) -> IdempotencyKey | None:
    return IdempotencyKey.objects.filter(app=app, key=key).first()


def _replayed(stored: IdempotencyKey, digest: str) -> Notification:
    if stored.body_hash != digest:
        raise KeyReused(
            "This Idempotency-Key was used in the last 24 hours with a different body; "
            "use a new key for a new notification."
        )
    return stored.notification

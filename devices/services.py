"""What other apps, commands and views call to find apps and handle API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from devices.models import ApiToken, MobileApp, TokenKind

TOKEN_PREFIX = "pc_"
# Each kind starts differently, so a server token found inside an app is easy to spot
# (secret scanners match on a fixed start, as GitHub's secret scanning does).
KIND_PREFIXES = {TokenKind.SERVER: TOKEN_PREFIX + "s_", TokenKind.CLIENT: TOKEN_PREFIX + "c_"}
# Writing last_used_at on every call would put a write on the hot path; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)
TOKEN_CACHE_SECONDS = 300


def find_app(owner_name: str, app_name: str) -> MobileApp | None:
    """Find an app by App Center's owner_name/app_name."""
    return (
        MobileApp.objects.select_related("organization")
        .filter(organization__name=owner_name, name=app_name)
        .first()
    )


def issue_api_token(
    app: MobileApp,
    name: str,
    created_by: AbstractBaseUser | None = None,
    kind: str = TokenKind.SERVER,
) -> tuple[ApiToken, str]:
    """Create a token of this kind for one app; the plain text is returned once, never stored."""
    start = KIND_PREFIXES[TokenKind(kind)]
    plaintext = start + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        app=app,
        kind=kind,
        name=name,
        prefix=plaintext[: len(start) + 8],
        token_hash=hash_token(plaintext),
        created_by=created_by,
    )
    return token, plaintext


def hash_token(plaintext: str) -> str:
    """Hash a token for storage; tokens carry 256 random bits, so one SHA-256 suffices."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def authenticate_token(plaintext: str, cached: ApiToken | None = None) -> ApiToken | None:
    """Return the active token with this text, its app loaded, noting when it was used.

    Tokens are looked up in the cache first (Redis in production): every API call starts here,
    and a cache read costs a fraction of the database join. Revoking a token or changing its
    app removes the cached entry, so neither waits for it to expire. A caller that already read
    the cache entry (token_cache_key) passes it as `cached`.
    """
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 100:
        return None
    digest = hash_token(plaintext)
    token = cached if isinstance(cached, ApiToken) else cache.get(_cache_key(digest))
    if token is None:
        token = (
            ApiToken.objects.select_related("app__organization")
            .filter(token_hash=digest, revoked_at__isnull=True)
            .first()
        )
        if token is None:
            return None
        cache.set(_cache_key(digest), token, TOKEN_CACHE_SECONDS)
    _note_use(token)
    return token


def kind_named_by(plaintext: str) -> str | None:
    """Return the kind a token's text starts with, or None for text that names none."""
    for kind, start in KIND_PREFIXES.items():
        if plaintext.startswith(start):
            return kind
    return None


def token_cache_key(plaintext: str) -> str:
    """Name the cache entry of the token with this text."""
    return _cache_key(hash_token(plaintext))


def _cache_key(digest: str) -> str:
    return f"api-token:{digest}"


def _note_use(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at and now - token.last_used_at < LAST_USED_PRECISION:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    ).update(last_used_at=now)
    token.last_used_at = now
    cache.set(_cache_key(token.token_hash), token, TOKEN_CACHE_SECONDS)


def revoke_api_tokens(tokens: QuerySet[ApiToken]) -> int:
    """Revoke tokens at once; a revoked token stays listed but authenticates nothing."""
    active = tokens.filter(revoked_at__isnull=True)
    digests = list(active.values_list("token_hash", flat=True))
    revoked = active.update(revoked_at=timezone.now())
    cache.delete_many([_cache_key(d) for d in digests])
    return revoked


@contextmanager
def property_types_for_update(app: MobileApp) -> Iterator[dict[str, str]]:
    """Lock an app's declared custom property types for a change, and save what changed.

    Yields the declared types as a dict to change in place; leaving the block stores them, and
    the app's cached tokens, which carry the old types, are dropped.
    """
    with transaction.atomic():
        locked = MobileApp.objects.select_for_update().only("custom_property_types").get(pk=app.pk)
        types = dict(locked.custom_property_types)
        yield types
        MobileApp.objects.filter(pk=app.pk).update(custom_property_types=types)
    app.custom_property_types = types
    forget_cached_tokens([app.pk])


def forget_cached_tokens(app_ids: list[int]) -> None:
    """Drop the cached tokens of these apps, whose cached copy is out of date."""
    digests = ApiToken.objects.filter(app_id__in=app_ids).values_list("token_hash", flat=True)
    cache.delete_many([_cache_key(d) for d in digests])

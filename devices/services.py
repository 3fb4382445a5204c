"""What other apps, commands and views call to find apps and handle API tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from devices.models import ApiToken, MobileApp

TOKEN_PREFIX = "pc_"
# Writing last_used_at on every call would put a write on the hot path; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)


def find_app(owner_name: str, app_name: str) -> MobileApp | None:
    """Find an app by App Center's owner_name/app_name."""
    return (
        MobileApp.objects.select_related("organization")
        .filter(organization__name=owner_name, name=app_name)
        .first()
    )


def find_app_by_ids(organization_id: str, application_id: str) -> MobileApp | None:
    """Find an app by D365's OrganizationId and ApplicationId."""
    try:
        org_uuid, app_uuid = uuid.UUID(str(organization_id)), uuid.UUID(str(application_id))
    except ValueError:
        return None
    return (
        MobileApp.objects.select_related("organization")
        .filter(organization__organization_id=org_uuid, application_id=app_uuid)
        .first()
    )


def issue_api_token(
    app: MobileApp, name: str, created_by: AbstractBaseUser | None = None
) -> tuple[ApiToken, str]:
    """Create a token for one app; the plain text is returned here once and never stored."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        app=app,
        name=name,
        prefix=plaintext[: len(TOKEN_PREFIX) + 8],
        token_hash=hash_token(plaintext),
        created_by=created_by,
    )
    return token, plaintext


def hash_token(plaintext: str) -> str:
    """Hash a token for storage; tokens carry 256 random bits, so one SHA-256 suffices."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def authenticate_token(plaintext: str) -> ApiToken | None:
    """Return the active token with this text, its app loaded, noting when it was used."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 100:
        return None
    token = (
        ApiToken.objects.select_related("app__organization")
        .filter(token_hash=hash_token(plaintext), revoked_at__isnull=True)
        .first()
    )
    if token is not None:
        _note_use(token)
    return token


def _note_use(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at and now - token.last_used_at < LAST_USED_PRECISION:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    ).update(last_used_at=now)
    token.last_used_at = now


def revoke_api_tokens(tokens: QuerySet[ApiToken]) -> int:
    """Revoke tokens at once; a revoked token stays listed but authenticates nothing."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())

"""Keep caches and sending true to what changed: a changed or deleted app drops its cached
tokens; a changed credential lets its held or paused provider send again."""

from __future__ import annotations

from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from devices import provider_health
from devices.models import (
    ApnsCredential,
    FcmCredential,
    MobileApp,
    Organization,
    ProviderCredential,
    WnsCredential,
)
from devices.services import forget_cached_tokens

PLATFORMS = {ApnsCredential: "ios", FcmCredential: "android", WnsCredential: "windows"}


@receiver([post_save, pre_delete], sender=MobileApp)
def app_changed(sender: type, instance: MobileApp, **kwargs: object) -> None:
    forget_cached_tokens([instance.pk])


@receiver([post_save, pre_delete], sender=Organization)
def organization_changed(sender: type, instance: Organization, **kwargs: object) -> None:
    forget_cached_tokens(list(instance.apps.values_list("pk", flat=True)))


# Fields a credential's own validation writes: saving them is not a change of credential.
VALIDATION_FIELDS = frozenset({"validation_status", "validation_message", "validated_at"})


@receiver(post_save, sender=ApnsCredential)
@receiver(post_save, sender=FcmCredential)
@receiver(post_save, sender=WnsCredential)
def credential_changed(
    sender: type, instance: ProviderCredential, update_fields: frozenset | None = None, **kwargs
) -> None:
    """A held or paused provider sends again once its credential is corrected."""
    if update_fields is not None and set(update_fields) <= VALIDATION_FIELDS:
        return
    provider_health.resume(instance.app, PLATFORMS[sender])

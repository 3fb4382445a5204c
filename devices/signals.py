"""Keep caches and sending true to what changed: a changed or deleted app drops its cached
API tokens; a changed credential lets its held or paused provider send again; a deleted one
closes this process's connections made with it."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save, pre_delete
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
from devices.providers import connections, registry
from devices.services import forget_cached_tokens

# Each credential model, by the platform its provider serves.
PLATFORMS = {
    MobileApp._meta.get_field(provider.credential).related_model: platform
    for platform, provider in registry.PROVIDERS.items()
}


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


@receiver(post_delete, sender=ApnsCredential)
@receiver(post_delete, sender=FcmCredential)
@receiver(post_delete, sender=WnsCredential)
def credential_deleted(sender: type, instance: ProviderCredential, **kwargs: object) -> None:
    # A changed credential needs nothing here: its new version gets new connections.
    connections.pool.forget(instance.client_identity)

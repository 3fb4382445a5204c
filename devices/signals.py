"""Keep caches true to what they cache: a changed or deleted app drops its cached API tokens, a
deleted provider credential closes this process's connections made with it."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from devices.models import (
    ApnsCredential,
    FcmCredential,
    MobileApp,
    Organization,
    ProviderCredential,
    WnsCredential,
)
from devices.providers import connections
from devices.services import forget_cached_tokens


@receiver([post_save, pre_delete], sender=MobileApp)
def app_changed(sender: type, instance: MobileApp, **kwargs: object) -> None:
    forget_cached_tokens([instance.pk])


@receiver([post_save, pre_delete], sender=Organization)
def organization_changed(sender: type, instance: Organization, **kwargs: object) -> None:
    forget_cached_tokens(list(instance.apps.values_list("pk", flat=True)))


@receiver(post_delete, sender=ApnsCredential)
@receiver(post_delete, sender=FcmCredential)
@receiver(post_delete, sender=WnsCredential)
def credential_deleted(sender: type, instance: ProviderCredential, **kwargs: object) -> None:
    # A changed credential needs nothing here: its new version gets new connections.
    key = connections.key_for(instance)
    connections.pool.forget(key.provider, key.credential)

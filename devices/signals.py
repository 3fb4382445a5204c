"""Keep cached API tokens true to their app: a changed or deleted app drops its cached tokens."""

from __future__ import annotations

from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from devices.models import MobileApp, Organization
from devices.services import forget_cached_tokens


@receiver([post_save, pre_delete], sender=MobileApp)
def app_changed(sender: type, instance: MobileApp, **kwargs: object) -> None:
    forget_cached_tokens([instance.pk])


@receiver([post_save, pre_delete], sender=Organization)
def organization_changed(sender: type, instance: Organization, **kwargs: object) -> None:
    forget_cached_tokens(list(instance.apps.values_list("pk", flat=True)))

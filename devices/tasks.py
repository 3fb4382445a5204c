"""Background work of devices: proving a credential against its provider after it is saved."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from devices import sending
from devices.models import MobileApp, ProviderCredential

log = logging.getLogger(__name__)

# How long a queued check shows as under way; a worker that never answers is forgotten then.
CHECK_SHOWN_SECONDS = 600


def check_key(credential: ProviderCredential) -> str:
    return f"credential-check:{type(credential).__name__}:{credential.pk}"


def queue_check(credential: ProviderCredential, platform: str) -> None:
    """Prove a just-saved credential in the background, once its transaction commits.

    The time it was queued is kept in the cache: until the credential's validation is newer,
    its app's page says the check is under way.
    """
    key = check_key(credential)
    cache.set(key, timezone.now().timestamp(), CHECK_SHOWN_SECONDS)
    app_id = credential.app_id

    def publish() -> None:
        try:
            validate_credential.delay(app_id, platform)
        except OperationalError:
            # The credential is saved all the same; its page offers the check by hand.
            log.exception("could not queue the check of app %s's %s credential", app_id, platform)
            cache.delete(key)

    transaction.on_commit(publish)


def is_checking(credential: ProviderCredential) -> bool:
    """Tell whether a check of this credential was queued and has not answered yet."""
    queued = cache.get(check_key(credential))
    if queued is None:
        return False
    checked = credential.validated_at
    return checked is None or checked.timestamp() < queued


@shared_task(name="devices.validate_credential", ignore_result=True)
def validate_credential(app_id: int, platform: str) -> None:
    """Prove the app's credential for one platform and store what the provider answered.

    An app or credential deleted since the check was queued has nothing left to prove.
    """
    app = (
        MobileApp.objects.select_related("apns_credential", "fcm_credential", "wns_credential")
        .filter(pk=app_id)
        .first()
    )
    if app is not None and platform in app.platforms():
        sending.validate_credentials(app, [platform])

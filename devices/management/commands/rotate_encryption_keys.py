"""Re-encrypt every stored credential and Segment secret under the newest encryption key."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from devices.encryption import DecryptionError, rotate
from devices.models import ApnsCredential, FcmCredential, MobileApp, WnsCredential


class Command(BaseCommand):
    help = (
        "Re-encrypt all provider credentials and Segment shared secrets under the first key of "
        "PUSHCENTER_ENCRYPTION_KEYS. Put the new key first, keep the old ones after it, run this, "
        "then drop the old keys."
    )

    def handle(self, *args: object, **options: object) -> None:
        total = 0
        try:
            with transaction.atomic():
                for model in (ApnsCredential, FcmCredential, WnsCredential):
                    total += _rotate_all(model)
                segment = _rotate_segment_secrets()
        except DecryptionError as error:
            raise CommandError(f"{error}; nothing was changed") from None
        self.stdout.write(
            f"Re-encrypted {total} credential(s) and {segment} Segment shared secret(s) "
            "under the newest key."
        )


def _rotate_all(model: type) -> int:
    credentials = list(model.objects.select_for_update().only("pk", "encrypted_secret"))
    for credential in credentials:
        credential.encrypted_secret = rotate(credential.encrypted_secret)
    model.objects.bulk_update(credentials, ["encrypted_secret"], batch_size=500)
    return len(credentials)


def _rotate_segment_secrets() -> int:
    apps = list(
        MobileApp.objects.select_for_update()
        .exclude(encrypted_segment_secret="")
        .only("pk", "encrypted_segment_secret")
    )
    for app in apps:
        app.encrypted_segment_secret = rotate(app.encrypted_segment_secret)
    MobileApp.objects.bulk_update(apps, ["encrypted_segment_secret"], batch_size=500)
    return len(apps)

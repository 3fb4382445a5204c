"""Re-encrypt every stored credential under the newest key of PUSHCENTER_ENCRYPTION_KEYS."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from devices.encryption import DecryptionError, rotate
from devices.models import ApnsCredential, FcmCredential, WnsCredential


class Command(BaseCommand):
    help = (
        "Re-encrypt all provider credentials under the first key of PUSHCENTER_ENCRYPTION_KEYS. "
        "Put the new key first, keep the old ones after it, run this, then drop the old keys."
    )

    def handle(self, *args: object, **options: object) -> None:
        total = 0
        try:
            with transaction.atomic():
                for model in (ApnsCredential, FcmCredential, WnsCredential):
                    total += _rotate_all(model)
        except DecryptionError as error:
            raise CommandError(f"{error}; nothing was changed") from None
        self.stdout.write(f"Re-encrypted {total} credential(s) under the newest key.")


def _rotate_all(model: type) -> int:
    credentials = list(model.objects.select_for_update().only("pk", "encrypted_secret"))
    for credential in credentials:
        credential.encrypted_secret = rotate(credential.encrypted_secret)
    model.objects.bulk_update(credentials, ["encrypted_secret"], batch_size=500)
    return len(credentials)

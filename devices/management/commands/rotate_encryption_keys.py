"""Re-encrypt every stored credential and Segment secret under the newest encryption key."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from devices.encryption import ENCRYPTED_COLUMNS, DecryptionError, EncryptedColumn, rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt all provider credentials and Segment shared secrets under the first key of "
        "PUSHCENTER_ENCRYPTION_KEYS. Put the new key first, keep the old ones after it, run this, "
        "then drop the old keys."
    )

    def handle(self, *args: object, **options: object) -> None:
        counts: dict[str, int] = {}
        try:
            with transaction.atomic():
                for column in ENCRYPTED_COLUMNS:
                    counts[column.noun] = counts.get(column.noun, 0) + _rotate_all(column)
        except DecryptionError as error:
            raise CommandError(f"{error}; nothing was changed") from None
        done = " and ".join(f"{count} {noun}" for noun, count in counts.items())
        self.stdout.write(f"Re-encrypted {done} under the newest key.")


def _rotate_all(column: EncryptedColumn) -> int:
    """Re-encrypt one column's stored secrets (an empty one is no secret)."""
    rows = list(
        column.model.objects.select_for_update()
        .exclude(**{column.field: ""})
        .only("pk", column.field)
    )
    for row in rows:
        setattr(row, column.field, rotate(getattr(row, column.field)))
    column.model.objects.bulk_update(rows, [column.field], batch_size=500)
    return len(rows)

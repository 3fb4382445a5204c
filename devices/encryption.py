"""Encrypt provider credentials at rest with MultiFernet over PUSHCENTER_ENCRYPTION_KEYS.

The first key encrypts; every key decrypts, so keys rotate by putting a new one first and
running `manage.py rotate_encryption_keys`, which re-encrypts every column in
ENCRYPTED_COLUMNS.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.views.decorators.debug import sensitive_variables


class EncryptedColumn(NamedTuple):
    model: type  # a Django model
    field: str
    noun: str  # what the rotation's report counts them as, such as "credential(s)"


# What key rotation re-encrypts. Each app adds its own columns when its models load (devices
# its credentials, journeys the Segment.com secret), so devices names none of the apps above it.
ENCRYPTED_COLUMNS: list[EncryptedColumn] = []


class DecryptionError(Exception):
    """A stored secret cannot be read with any configured key."""


@functools.lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


@sensitive_variables("plaintext")
def encrypt(plaintext: str) -> str:
    """Encrypt text under the newest key."""
    return _current().encrypt(plaintext.encode()).decode()


@sensitive_variables()
def decrypt(ciphertext: str) -> str:
    """Decrypt text stored by `encrypt`, under any configured key."""
    try:
        return _current().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "a stored secret cannot be decrypted with PUSHCENTER_ENCRYPTION_KEYS; "
            "was the key it was written with removed?"
        ) from None


def rotate(ciphertext: str) -> str:
    """Re-encrypt a stored secret under the newest key without exposing it."""
    try:
        return _current().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "a stored secret cannot be re-encrypted: none of PUSHCENTER_ENCRYPTION_KEYS opens it"
        ) from None

"""Encrypt provider credentials at rest with MultiFernet over PUSHCENTER_ENCRYPTION_KEYS.

The first key encrypts; every key decrypts, so keys rotate by putting a new one first and
running `manage.py rotate_encryption_keys`.
"""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.views.decorators.debug import sensitive_variables


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

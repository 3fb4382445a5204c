"""Sign a batch's body so its receiver can tell it came from us, unchanged and recently.

Each POST carries a Unix timestamp and one or more signatures:

    Pushcenter-Timestamp: 1767225600
    Pushcenter-Signature: v1=<hex>[,v1=<hex>]

A signature is hex(HMAC-SHA256(secret, f"{timestamp}." + body)), the body's exact bytes. Two
signatures are sent while a rotated secret's predecessor still signs (a day), so a receiver
holding either secret accepts. A receiver refuses a timestamp more than 5 minutes old.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as random_secrets

from django.views.decorators.debug import sensitive_variables

TIMESTAMP_HEADER = "Pushcenter-Timestamp"
SIGNATURE_HEADER = "Pushcenter-Signature"
BATCH_HEADER = "Pushcenter-Batch"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """Return a fresh signing secret: 256 random bits, URL-safe, with a recognisable prefix."""
    return SECRET_PREFIX + random_secrets.token_urlsafe(32)


@sensitive_variables("secret")
def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Return hex(HMAC-SHA256(secret, "{timestamp}." + body))."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


@sensitive_variables("secrets")
def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    """Return the signature header's value: one v1 signature per signing secret."""
    return ",".join(f"v1={signature(secret, timestamp, body)}" for secret in secrets)

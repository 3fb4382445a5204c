"""Generate provider credentials of the right shape for the demo, the sandbox and the tests.

None of them can reach a real provider: the keys are fresh and known only to this install.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12


def p8_signing_key() -> bytes:
    """Return a new APNs-style .p8: an unencrypted PKCS#8 PEM EC P-256 private key."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def p12_certificate(bundle_id: str, password: str, *, days: int = 365) -> bytes:
    """Return a self-signed push certificate for a bundle ID, as a password-protected .p12.

    A negative `days` makes a certificate that has already expired.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(x509.NameOID.USER_ID, bundle_id),
            x509.NameAttribute(x509.NameOID.COMMON_NAME, f"Apple Push Services: {bundle_id}"),
        ]
    )
    now = datetime.now(UTC)
    not_after = now + timedelta(days=days)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now, not_after) - timedelta(days=1))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    encryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(b"push", key, certificate, None, encryption)


def service_account(project_id: str, client_email: str | None = None) -> bytes:
    """Return a Firebase-style service-account JSON with a new RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    email = client_email or f"push-center@{project_id}.iam.gserviceaccount.com"
    account = {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": "0" * 40,
        "private_key": pem,
        "client_email": email,
        "client_id": "100000000000000000000",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return json.dumps(account, indent=2).encode()

"""Parse and check provider credentials before they are stored.

Each check raises ValidationError keyed by the form field at fault, with the rule it broke, and
returns the non-secret facts worth showing (a certificate's expiry, a project id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12
from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables

from pushcenter.request_limits import load_json

APPLE_ID_RE = re.compile(r"^[A-Z0-9]{10}$")
BUNDLE_ID_RE = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
GUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
PACKAGE_FAMILY_NAME_RE = re.compile(r"^[A-Za-z0-9.-]{3,50}_[a-z0-9]{13}$")
WNS_SECRET_RE = re.compile(r"^[\x21-\x7e]{1,255}$")
# A Package SID as Partner Center shows it: ms-app:// and an app container SID, S-1-15-2 and
# its sub-authorities (wns.PACKAGE_SID_PREFIX; Microsoft's "Push notification service request
# and response headers" names it as the client_id of the Package SID flow).
PACKAGE_SID_RE = re.compile(r"^ms-app://s-1-15-2(-[0-9]{1,10}){1,15}$", re.IGNORECASE)

MAX_P8_BYTES = 10_000
MAX_P12_BYTES = 100_000
MAX_SERVICE_ACCOUNT_BYTES = 20_000


@dataclass(frozen=True)
class CertificateFacts:
    subject: str
    bundle_id: str
    expires_at: datetime


def check_apple_id(field: str, value: str, what: str) -> str:
    """Check an Apple Key ID or Team ID: exactly 10 upper-case letters or digits."""
    value = value.strip()
    if not APPLE_ID_RE.match(value):
        raise ValidationError(
            {field: f"{what} must be exactly 10 characters, upper-case letters and digits."}
        )
    return value


def check_bundle_id(field: str, value: str) -> str:
    """Check an iOS bundle ID, the APNs topic: reverse-DNS such as com.example.app."""
    value = value.strip()
    if not BUNDLE_ID_RE.match(value) or len(value) > 155:
        raise ValidationError(
            {
                field: "Bundle ID must be reverse-DNS (letters, digits, hyphens and dots, "
                "such as com.example.app), 155 characters at most."
            }
        )
    return value


@sensitive_variables()
def check_p8_signing_key(field: str, pem: bytes) -> None:
    """Check an APNs .p8 signing key: a PEM EC private key on the P-256 curve."""
    if len(pem) > MAX_P8_BYTES:
        raise ValidationError({field: f"A .p8 signing key is under {MAX_P8_BYTES} bytes."})
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise ValidationError(
            {
                field: "The signing key must be the .p8 file's PEM text "
                "(-----BEGIN PRIVATE KEY----- …), unencrypted."
            }
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValidationError({field: "The signing key must be an EC P-256 (ES256) private key."})


@sensitive_variables()
def check_p12_certificate(field: str, data: bytes, password: str) -> CertificateFacts:
    """Open an APNs .p12 with its password; it must hold a key and an unexpired certificate."""
    if len(data) > MAX_P12_BYTES:
        raise ValidationError({field: f"A .p12 certificate file is under {MAX_P12_BYTES} bytes."})
    try:
        key, certificate, _ = pkcs12.load_key_and_certificates(data, password.encode() or None)
    except (ValueError, TypeError):
        raise ValidationError(
            {field: "The .p12 file does not open with this password (or is not a .p12 file)."}
        ) from None
    if certificate is None:
        raise ValidationError({field: "The .p12 file holds no certificate."})
    if key is None:
        raise ValidationError({field: "The .p12 file holds no private key for its certificate."})
    expires_at = certificate.not_valid_after_utc
    if expires_at <= datetime.now(UTC):
        raise ValidationError({field: f"The certificate expired on {expires_at:%Y-%m-%d}."})
    return CertificateFacts(
        subject=certificate.subject.rfc4514_string(),
        bundle_id=_attribute(certificate, x509.NameOID.USER_ID),
        expires_at=expires_at,
    )


def _attribute(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> str:
    values = certificate.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


@sensitive_variables()
def check_service_account(field: str, raw: bytes) -> dict[str, str]:
    """Check an FCM service-account JSON; return its project id and client email."""
    if len(raw) > MAX_SERVICE_ACCOUNT_BYTES:
        raise ValidationError(
            {field: f"A service-account JSON file is under {MAX_SERVICE_ACCOUNT_BYTES} bytes."}
        )
    try:
        account = load_json(raw.decode())
    except (ValueError, UnicodeDecodeError):
        raise ValidationError({field: "The service account must be a JSON document."}) from None
    if not isinstance(account, dict):
        raise ValidationError({field: "The service account must be a JSON object."})
    if account.get("type", "service_account") != "service_account":
        raise ValidationError(
            {field: 'The JSON must be a service account ("type": "service_account").'}
        )
    missing = [k for k in ("private_key", "client_email", "project_id") if not account.get(k)]
    if missing:
        raise ValidationError({field: f"The service-account JSON lacks {', '.join(missing)}."})
    _check_rsa_key(field, account["private_key"])
    if "@" not in str(account["client_email"]):
        raise ValidationError({field: "The service account's client_email is not an address."})
    return {"project_id": str(account["project_id"]), "client_email": str(account["client_email"])}


@sensitive_variables()
def _check_rsa_key(field: str, pem: object) -> None:
    try:
        key = load_pem_private_key(str(pem).encode(), password=None)
    except (ValueError, TypeError):
        raise ValidationError(
            {field: "The service account's private_key is not a PEM key."}
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValidationError({field: "The service account's private_key must be an RSA key."})


def check_guid(field: str, value: str, what: str) -> str:
    """Check an Azure identifier: a GUID such as 00000000-0000-0000-0000-000000000000."""
    value = value.strip()
    if not GUID_RE.match(value):
        raise ValidationError({field: f"{what} must be a GUID (8-4-4-4-12 hexadecimal digits)."})
    return value.lower()


def check_package_family_name(field: str, value: str) -> str:
    """Check a Windows package family name: Name_publisherid (13 characters after the _)."""
    value = value.strip()
    if not PACKAGE_FAMILY_NAME_RE.match(value):
        raise ValidationError(
            {
                field: "Package family name must look like Contoso.App_8wekyb3d8bbwe: "
                "the package name, an underscore, and the 13-character publisher id."
            }
        )
    return value


def check_package_sid(field: str, value: str) -> str:
    """Check a Windows Store app's Package SID: ms-app://s-1-15-2- and numbers joined by -."""
    value = value.strip()
    if not PACKAGE_SID_RE.match(value) or len(value) > 256:
        raise ValidationError(
            {
                field: "Package SID must look like ms-app://s-1-15-2-2972962901-2322836549-…: "
                "ms-app://s-1-15-2- and numbers joined by hyphens, as Partner Center shows it."
            }
        )
    return value


@sensitive_variables()
def check_wns_client_secret(field: str, value: str) -> str:
    """Check a WNS client secret: 1 to 255 printable characters, no spaces."""
    if not WNS_SECRET_RE.match(value):
        raise ValidationError(
            {field: "The client secret must be 1 to 255 printable characters without spaces."}
        )
    return value

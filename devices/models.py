"""Who can be reached and how: organizations, their mobile apps, credentials and API tokens."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from devices import credentials, encryption
from devices.encryption import DecryptionError
from devices.providers import apns, fcm, wns
from devices.providers.base import Credential

PROPERTY_TYPES = ("string", "number", "boolean", "datetime")
PROPERTY_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Names a custom property cannot take: the built-in properties and the audience language's words.
BUILT_IN_PROPERTY_NAMES = (
    "appVersion",
    "carrierCountry",
    "deviceOsVersion",
    "osApiLevel",
    "model",
    "oemName",
    "screenSize",
    "userId",
    "platform",
    "locale",
    "language",
    "timeZone",
    "firstSeen",
    "lastSeen",
    "pushEnabled",
    "categories",
)
RESERVED_WORDS = (
    "and",
    "or",
    "not",
    "in",
    "exists",
    "true",
    "false",
    "null",
    "now",
    "eq",
    "ne",
    "lt",
    "gt",
    "le",
    "ge",
    "startswith",
    "endswith",
    "contains",
)


def property_name_problem(name: str) -> str | None:
    """Say why a custom property cannot have this name, or None when it can."""
    if not PROPERTY_NAME_RE.match(name) or name.isdigit():
        return "a property name is 1 to 64 letters, digits, '_', '.' or '-', not only digits"
    if name in BUILT_IN_PROPERTY_NAMES or name.lower() in RESERVED_WORDS:
        return "that name is taken by a built-in property or a word of the audience language"
    return None


def validate_property_types(value: object) -> None:
    """Check an app's custom property types: {"name": "string|number|boolean|datetime"}."""
    if not isinstance(value, dict):
        raise ValidationError('Write an object such as {"dog-lover": "boolean"}.')
    for name, kind in value.items():
        problem = property_name_problem(name)
        if problem:
            raise ValidationError(f"{name!r}: {problem}.")
        if kind not in PROPERTY_TYPES:
            raise ValidationError(f"{name!r}: the type must be one of {', '.join(PROPERTY_TYPES)}.")


# App Center's owner_name and app_name, which appear in API paths.
url_name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
    "Use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
)


class Organization(models.Model):
    """An owner of apps: App Center's owner_name, D365's OrganizationId."""

    organization_id = models.UUIDField(
        "Organization ID", default=uuid.uuid4, unique=True, editable=False
    )
    name = models.CharField(
        "Owner name",
        max_length=64,
        unique=True,
        validators=[url_name_validator],
        help_text="Appears in API paths as owner_name, such as contoso.",
    )
    display_name = models.CharField(max_length=100)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="member_organizations",
        help_text="People who work on every app of this organization, in their role.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name or self.name


class MobileApp(models.Model):
    """A mobile-app configuration: one app on iOS, Android and/or Windows."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="apps")
    name = models.CharField(
        "App name",
        max_length=64,
        validators=[url_name_validator],
        help_text="Appears in API paths as app_name, such as retail-app.",
    )
    display_name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    application_id = models.UUIDField(
        "Application ID", default=uuid.uuid4, unique=True, editable=False
    )
    custom_property_types = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_property_types],
        help_text="Types of the custom properties devices report, such as "
        '{"dog-lover": "boolean"}: string, number, boolean or datetime. '
        "A property seen first is declared by its value's type.",
    )
    latest_version = models.CharField(
        max_length=64,
        blank=True,
        help_text="The version 'Prompt for update' brings customers to. Empty: the highest "
        "appVersion devices report.",
    )
    app_store_id = models.CharField(
        "App Store ID",
        max_length=12,
        blank=True,
        validators=[RegexValidator(r"^[0-9]{6,12}$", "Use the digits of the App Store ID.")],
        help_text="The number in the App Store link (apps.apple.com/app/id<number>).",
    )
    play_package_name = models.CharField(
        "Google Play package name",
        max_length=150,
        blank=True,
        validators=[
            RegexValidator(
                r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$",
                "Use a package name such as com.contoso.retail.",
            )
        ],
    )
    store_product_id = models.CharField(
        "Microsoft Store ID",
        max_length=12,
        blank=True,
        validators=[RegexValidator(r"^[0-9A-Za-z]{12}$", "Use the 12-character Store ID.")],
        help_text="Such as 9NBLGGH4R315 (App management > App identity).",
    )
    deep_link_scheme = models.CharField(
        max_length=40,
        blank=True,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9+.-]*$", "Use a URL scheme such as contoso-retail (lower case)."
            )
        ],
        help_text="The app's own URL scheme; notifications may link to it.",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="member_apps",
        help_text="People who work on this app, in their role; its organization's members too.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization__name", "name"]
        verbose_name = "mobile app"
        permissions = [("view_every_app", "Can see every app, not only those one develops")]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="unique_app_name_per_owner"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization.name}/{self.name}"

    @property
    def owner_name(self) -> str:
        return self.organization.name

    def platforms(self) -> list[str]:
        """List the platforms this app has provider credentials for."""
        present = []
        for platform, relation in (
            ("ios", "apns_credential"),
            ("android", "fcm_credential"),
            ("windows", "wns_credential"),
        ):
            if hasattr(self, relation):
                present.append(platform)
        return present


class ValidationStatus(models.TextChoices):
    UNCHECKED = "unchecked", "Unchecked"
    VALID = "valid", "Valid"
    INVALID = "invalid", "Invalid"


class ProviderCredential(models.Model):
    """What every provider credential shares: an encrypted secret and its validation status."""

    encrypted_secret = models.TextField(editable=False)
    secret_set_at = models.DateTimeField(null=True, editable=False)
    validation_status = models.CharField(
        max_length=10,
        choices=ValidationStatus.choices,
        default=ValidationStatus.UNCHECKED,
        editable=False,
    )
    validation_message = models.TextField(blank=True, editable=False)
    validated_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @sensitive_variables("secret")
    def store_secret(self, secret: dict[str, str]) -> None:
        """Encrypt and keep a new secret; its validation starts over."""
        self.encrypted_secret = encryption.encrypt(json.dumps(secret))
        self.secret_set_at = timezone.now()
        self.validation_status = ValidationStatus.UNCHECKED
        self.validation_message = ""
        self.validated_at = None

    def read_secret(self) -> dict[str, str]:
        """Decrypt the secret for a provider call; never show or log what this returns."""
        return json.loads(encryption.decrypt(self.encrypted_secret))

    @property
    def client_identity(self) -> str:
        """Who this credential is to its provider's client and connections, across changes."""
        model = type(self).__name__
        # An unsaved credential (a form's check before saving) shares with no other.
        return f"{model}:{self.pk}" if self.pk else f"{model}:unsaved-{id(self)}"

    def _client_fields(self) -> dict[str, Any]:
        """What every provider's Credential carries: name, identity, and a version that changes
        with each save."""
        saved_at = self.updated_at.isoformat() if self.updated_at else ""
        version = hashlib.sha256(f"{self.encrypted_secret}\n{saved_at}".encode()).hexdigest()
        return {"name": str(self), "identity": self.client_identity, "version": version}

    def for_client(self) -> Credential:
        """Return what its provider's client needs, the secret decrypted (each model's own)."""
        raise NotImplementedError

    def record_validation(self, valid: bool, message: str) -> None:
        """Keep the outcome of checking this credential against its provider."""
        self.validation_status = ValidationStatus.VALID if valid else ValidationStatus.INVALID
        self.validation_message = message
        self.validated_at = timezone.now()
        self.save(update_fields=["validation_status", "validation_message", "validated_at"])


class ApnsCredential(ProviderCredential):
    """iOS: an APNs token (.p8 key) or certificate (.p12) credential, and the app's topic."""

    class AuthMethod(models.TextChoices):
        TOKEN = "token", "Token (.p8 signing key)"
        CERTIFICATE = "certificate", "Certificate (.p12)"

    class Environment(models.TextChoices):
        PRODUCTION = "production", "Production"
        SANDBOX = "sandbox", "Sandbox (development)"

    app = models.OneToOneField(MobileApp, on_delete=models.CASCADE, related_name="apns_credential")
    auth_method = models.CharField(
        max_length=12, choices=AuthMethod.choices, default=AuthMethod.TOKEN
    )
    key_id = models.CharField("Key ID", max_length=10, blank=True)
    team_id = models.CharField("Team ID", max_length=10, blank=True)
    bundle_id = models.CharField("Bundle ID", max_length=155, help_text="The APNs topic.")
    environment = models.CharField(
        max_length=10, choices=Environment.choices, default=Environment.PRODUCTION
    )
    certificate_subject = models.CharField(max_length=300, blank=True, editable=False)
    certificate_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "APNs credential (iOS)"

    def __str__(self) -> str:
        return f"APNs credential of {self.app}"

    @sensitive_variables()
    def for_client(self) -> apns.ApnsKey | apns.ApnsCertificate:
        """Return what the APNs client needs, the secret decrypted; ProviderError if unreadable."""
        fields = {
            **self._client_fields(),
            "topic": self.bundle_id,
            "sandbox": self.environment == self.Environment.SANDBOX,
            "environment": self.get_environment_display(),
        }
        if self.auth_method == self.AuthMethod.CERTIFICATE:
            try:
                secret = self.read_secret()
                password = secret.get("certificate_password") or ""
                p12 = bytes.fromhex(secret["certificate_p12"])
            except (DecryptionError, KeyError, TypeError, ValueError) as error:
                raise apns.unreadable_certificate(str(self), error) from None
            return apns.ApnsCertificate(**fields, p12=p12, password=password)
        try:
            signing_key = self.read_secret()["signing_key"]
        except (DecryptionError, KeyError, TypeError) as error:
            raise apns.unreadable_key(str(self), error) from None
        return apns.ApnsKey(
            **fields, key_id=self.key_id, team_id=self.team_id, signing_key=signing_key
        )


class FcmCredential(ProviderCredential):
    """Android: an FCM HTTP v1 service account."""

    app = models.OneToOneField(MobileApp, on_delete=models.CASCADE, related_name="fcm_credential")
    project_id = models.CharField(max_length=100, editable=False)
    client_email = models.CharField(max_length=254, editable=False)

    class Meta:
        verbose_name = "FCM credential (Android)"

    def __str__(self) -> str:
        return f"FCM credential of {self.app}"

    @sensitive_variables()
    def for_client(self) -> fcm.FcmServiceAccount:
        """Return what the FCM client needs, the secret decrypted; ProviderError if unreadable."""
        try:
            key_file = self.read_secret()["service_account"]
        except (DecryptionError, KeyError, TypeError) as error:
            raise fcm.unreadable_service_account(str(self), error) from None
        return fcm.FcmServiceAccount(
            **self._client_fields(), project_id=self.project_id, key_file=key_file
        )


class WnsCredential(ProviderCredential):
    """Windows: the Azure app registration WNS authenticates, or a Store app's Package SID.

    Both flows authenticate with a client secret (stored encrypted, write-only): Azure AD's
    with the tenant and application (client) ids, the older Live flow of apps registered in
    Partner Center with the Package SID (devices.providers.wns, LEGACY_SCOPE).
    """

    class AuthFlow(models.TextChoices):
        AZURE_AD = "azure_ad", "Azure AD app registration"
        PACKAGE_SID = "package_sid", "Package SID (Partner Center / Store)"

    app = models.OneToOneField(MobileApp, on_delete=models.CASCADE, related_name="wns_credential")
    auth_flow = models.CharField(
        "Authentication flow", max_length=12, choices=AuthFlow.choices, default=AuthFlow.AZURE_AD
    )
    tenant_id = models.CharField("Tenant ID", max_length=36, blank=True)
    client_id = models.CharField("Application (client) ID", max_length=36, blank=True)
    object_id = models.CharField("Object ID", max_length=36, blank=True)
    package_sid = models.CharField(
        "Package SID",
        max_length=256,
        blank=True,
        help_text=f"Partner Center's Package SID, {wns.PACKAGE_SID_PREFIX}….",
    )
    package_family_name = models.CharField(max_length=64)

    class Meta:
        verbose_name = "WNS credential (Windows)"

    def __str__(self) -> str:
        return f"WNS credential of {self.app}"

    def clean(self) -> None:
        """Require the fields of the chosen flow and refuse those of the other, by name."""
        super().clean()
        errors: dict[str, str] = {}
        if self.auth_flow == self.AuthFlow.PACKAGE_SID:
            if not self.package_sid:
                errors["package_sid"] = "The Package SID flow needs the app's Package SID."
            else:
                try:
                    credentials.check_package_sid("package_sid", self.package_sid)
                except ValidationError as error:
                    errors.update({k: v[0] for k, v in error.message_dict.items()})
            for name in ("tenant_id", "client_id", "object_id"):
                if getattr(self, name):
                    errors[name] = "Leave this empty for the Package SID flow: it is Azure AD's."
        else:
            for name, what in (("tenant_id", "tenant ID"), ("client_id", "client ID")):
                if not getattr(self, name):
                    errors[name] = f"The Azure AD flow needs the {what}."
            if self.package_sid:
                errors["package_sid"] = "Leave this empty for the Azure AD flow."
        if errors:
            raise ValidationError(errors)

    @sensitive_variables()
    def for_client(self) -> wns.WnsSecret:
        """Return what the WNS client needs, the secret decrypted; ProviderError if unreadable."""
        try:
            secret = self.read_secret()["client_secret"]
            if not isinstance(secret, str) or not secret:
                raise ValueError("empty")
        except (DecryptionError, KeyError, TypeError, ValueError) as error:
            raise wns.unreadable_secret(str(self), error) from None
        if self.auth_flow == self.AuthFlow.PACKAGE_SID:
            return wns.WnsSecret(
                **self._client_fields(), client_secret=secret, package_sid=self.package_sid
            )
        return wns.WnsSecret(
            **self._client_fields(),
            tenant_id=self.tenant_id,
            client_id=self.client_id,
            client_secret=secret,
        )


encryption.ENCRYPTED_COLUMNS.extend(
    encryption.EncryptedColumn(model, "encrypted_secret", "credential(s)")
    for model in (ApnsCredential, FcmCredential, WnsCredential)
)


class TokenKind(models.TextChoices):
    # A server token does everything and stays on the app's servers; a client key ships inside
    # the app and can only register its own device and report launches (OneSignal's App ID
    # against its REST API key, App Center's app secret against its API token).
    SERVER = "server", "Server token"
    CLIENT = "client", "Client key"


class ApiToken(models.Model):
    """A secret that lets an app's servers, or its installed copies, call the API for that app."""

    app = models.ForeignKey(MobileApp, on_delete=models.CASCADE, related_name="api_tokens")
    kind = models.CharField(max_length=6, choices=TokenKind.choices, default=TokenKind.SERVER)
    name = models.CharField(max_length=100, help_text="What the token is for, such as 'iOS app'.")
    prefix = models.CharField(max_length=16, editable=False, help_text="The token's visible start.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Platform(models.TextChoices):
    IOS = "ios", "iOS"
    ANDROID = "android", "Android"
    WINDOWS = "windows", "Windows"


class DeviceStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    UNREGISTERED = "unregistered", "Unregistered by the app"
    TOKEN_INVALID = "token_invalid", "Token invalid"
    CHANNEL_EXPIRED = "channel_expired", "Channel expired"


class Device(models.Model):
    """One installation of an app on a phone, tablet or PC, and how to reach it."""

    # Indexed by the indexes that start with it (below), not by one of its own.
    app = models.ForeignKey(
        MobileApp, on_delete=models.CASCADE, related_name="devices", db_index=False
    )
    install_id = models.UUIDField("Install ID")
    platform = models.CharField(max_length=10, choices=Platform.choices)
    # NULL, not "", means absent: an install without a token or user matches none of the others.
    push_token = models.CharField(max_length=1024, null=True, blank=True)  # noqa: DJ001
    channel_uri = models.CharField("Channel URI", max_length=2048, null=True, blank=True)  # noqa: DJ001
    channel_expires_at = models.DateTimeField(null=True, blank=True)
    user_id = models.CharField("User ID", max_length=256, null=True, blank=True)  # noqa: DJ001
    # The customer account the install signed in to (App Center's account_ids_target): one
    # account may hold several users' devices, as a family or a team plan does.
    account_id = models.CharField("Account ID", max_length=256, null=True, blank=True)  # noqa: DJ001
    locale = models.CharField(max_length=35, blank=True)
    language = models.CharField(max_length=8, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    app_version = models.CharField(max_length=64, blank=True)
    app_version_key = models.CharField(max_length=48, blank=True, editable=False)
    carrier_country = models.CharField(max_length=2, blank=True)
    device_os_version = models.CharField("Device OS version", max_length=64, blank=True)
    device_os_version_key = models.CharField(max_length=48, blank=True, editable=False)
    os_api_level = models.PositiveIntegerField("OS API level", null=True, blank=True)
    device_model = models.CharField("Model", max_length=100, blank=True)
    oem_name = models.CharField("OEM name", max_length=100, blank=True)
    screen_size = models.CharField(max_length=20, blank=True)
    custom_properties = models.JSONField(default=dict, blank=True)
    push_enabled = models.BooleanField("Push opt-in", default=True)
    categories = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=DeviceStatus.choices, default=DeviceStatus.ACTIVE
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app", "install_id"], name="unique_install_per_app")
        ]
        indexes = [
            # With the id as its last key, an audience's devices and a behaviour segment's
            # lookups (did(...) joins events to devices by id) are answered from this index
            # alone, without reading the devices' rows.
            models.Index(fields=["app", "status", "id"], name="device_app_status_id"),
            models.Index(fields=["app", "user_id"], name="device_app_user"),
            models.Index(fields=["app", "account_id"], name="device_app_account"),
            models.Index(fields=["app", "push_token"], name="device_app_token"),
            models.Index(fields=["app", "channel_uri"], name="device_app_channel"),
            models.Index(fields=["app", "last_seen"], name="device_app_last_seen"),
            # A welcome journey looks for the devices first seen since its last look.
            models.Index(fields=["app", "first_seen"], name="device_app_first_seen"),
            models.Index(fields=["status", "retired_at"], name="device_retired"),
        ]

    def __str__(self) -> str:
        return str(self.install_id)


class ProviderHealth(models.Model):
    """How one app's provider has been answering; sends to it pause while it keeps failing."""

    app = models.ForeignKey(MobileApp, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=10, choices=Platform.choices)
    failures = models.PositiveIntegerField(
        default=0, help_text="Batches in a row the provider failed as a whole."
    )
    paused_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    # Set when most of a batch's answers would have retired their devices: the credential is
    # more likely wrong than the audience gone. Sends wait until the credential changes, or an
    # administrator says it is right (trusted_until), so no device is retired meanwhile.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspect_reason = models.TextField(blank=True)
    trusted_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "provider health"
        constraints = [
            models.UniqueConstraint(fields=["app", "platform"], name="one_health_per_provider")
        ]

    def __str__(self) -> str:
        return f"{self.app} {self.platform}"

"""Dashboard forms for provider credentials: secrets are write-only and checked before saving."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_variables

from devices import credentials, encryption
from devices.models import (
    ApnsCredential,
    FcmCredential,
    MobileApp,
    ProviderCredential,
    WnsCredential,
)
from pushcenter.request_limits import BoundedJSONField


class MobileAppForm(forms.ModelForm):
    """An app's settings; a declared property type, once devices report it, may not change.

    The settings other apps keep for it (sending rules, Segment.com) are inlines of its page.
    """

    class Meta:
        model = MobileApp
        fields = [
            "organization",
            "name",
            "display_name",
            "description",
            "latest_version",
            "app_store_id",
            "play_package_name",
            "store_product_id",
            "deep_link_scheme",
            "custom_property_types",
            "members",
        ]
        field_classes = {"custom_property_types": BoundedJSONField}

    def clean_custom_property_types(self) -> dict:
        types = self.cleaned_data["custom_property_types"] or {}
        if not isinstance(types, dict):
            return types  # the model's validator says what shape it needs
        before = self.instance.custom_property_types if self.instance.pk else {}
        for name, kind in types.items():
            if name in before and before[name] != kind:
                raise ValidationError(
                    f"{name!r} is declared {before[name]}; devices report it so, and segments "
                    "compare it so. Declare a new property instead of changing its type."
                )
        return types


class WriteOnlySecretForm(forms.ModelForm):
    """A credential form whose secret fields never show a stored value, only when it was set.

    Each secret field names the part of the stored secret it sets, so its note says "set" only
    for what is stored. A browser never sends a file or a password back, so after a refused
    save each one that was given asks to be given again.
    """

    # Field name: the key of the stored secret it sets.
    secret_fields: dict[str, str] = {}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        stored = stored_parts(self.instance)
        for name, part in self.secret_fields.items():
            field = self.fields[name]
            field.required = False
            note = _stored_note(self.instance, stored, part)
            field.help_text = format_html("{} {}", note, field.help_text)
            if self._was_given(name):
                field.help_text = format_html(
                    '<strong class="give-again">{}</strong> {}',
                    _give_again(field),
                    field.help_text,
                )

    def _was_given(self, name: str) -> bool:
        """Tell whether this submission carried a file or a password for the field."""
        if not self.is_bound:
            return False
        key = self.add_prefix(name)
        given = self.files.get(key) if isinstance(self.fields[name], forms.FileField) else None
        return bool(given or self.data.get(key))

    def has_stored_secret(self) -> bool:
        return bool(self.instance.pk and self.instance.encrypted_secret)

    def require_secret(self, name: str, message: str) -> None:
        self.add_error(name, ValidationError(message, code="required"))

    def normalize(self, name: str, check: Callable[..., object], args: tuple) -> None:
        """Replace a field's cleaned value by what its check returns, or record its error."""
        value = _check(self, check, args)
        if value is not None:
            self.cleaned_data[name] = value


def stored_parts(instance: ProviderCredential) -> set[str] | None:
    """The non-empty parts of a credential's stored secret; None when it cannot be decrypted."""
    if not (instance.pk and instance.encrypted_secret):
        return set()
    try:
        secret = instance.read_secret()
    except (encryption.DecryptionError, ValueError):
        return None
    return {key for key, value in secret.items() if value} if isinstance(secret, dict) else None


def _stored_note(instance: ProviderCredential, stored: set[str] | None, part: str) -> str:
    when = f"{instance.secret_set_at:%Y-%m-%d %H:%M} UTC" if instance.secret_set_at else ""
    if stored is None:
        return f"Stored on {when} but unreadable with the current encryption keys; set it again."
    if part in stored:
        return f"Set on {when}; leave empty to keep it."
    return "Not set yet."


def _give_again(field: forms.Field) -> str:
    again = "Choose the file again" if isinstance(field, forms.FileField) else "Enter it again"
    return f"{again}: it was not saved because the page had errors."


def _read_upload(upload: object) -> bytes:
    return upload.read() if upload else b""


class ApnsCredentialForm(WriteOnlySecretForm):
    secret_fields = {
        "signing_key": "signing_key",
        "certificate": "certificate_p12",
        "certificate_password": "certificate_password",
    }

    signing_key = forms.FileField(
        label="Signing key (.p8)", help_text="The AuthKey_XXXXXXXXXX.p8 file from Apple."
    )
    certificate = forms.FileField(label="Certificate (.p12)", help_text="The push certificate.")
    certificate_password = forms.CharField(
        label="Certificate password",
        widget=forms.PasswordInput(render_value=False),
        strip=False,
        help_text="Enter it again whenever you upload a .p12.",
    )

    class Meta:
        model = ApnsCredential
        fields = ["auth_method", "key_id", "team_id", "bundle_id", "environment"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # A certificate names its bundle ID, so the field may stay empty until clean() decides.
        self.fields["bundle_id"].required = False

    @sensitive_variables()
    def clean(self) -> dict:
        data = super().clean()
        if data.get("auth_method") == ApnsCredential.AuthMethod.CERTIFICATE:
            self._clean_certificate(data)
        else:
            self._clean_token(data)
        if data.get("bundle_id"):
            self.normalize(
                "bundle_id", credentials.check_bundle_id, ("bundle_id", data["bundle_id"])
            )
        elif not self.has_error("bundle_id"):
            self.require_secret("bundle_id", "Bundle ID is required: it is the APNs topic.")
        return data

    def _stored_method(self) -> str | None:
        return self.instance.auth_method if self.has_stored_secret() else None

    @sensitive_variables()
    def _clean_token(self, data: dict) -> None:
        for name, what in (("key_id", "Key ID"), ("team_id", "Team ID")):
            self.normalize(name, credentials.check_apple_id, (name, data.get(name, ""), what))
        pem = _read_upload(data.get("signing_key"))
        if pem:
            _check(self, credentials.check_p8_signing_key, ("signing_key", pem))
            self.new_secret = {"signing_key": pem.decode()}
        elif self._stored_method() != ApnsCredential.AuthMethod.TOKEN:
            self.require_secret(
                "signing_key", "Upload the .p8 signing key for token authentication."
            )

    @sensitive_variables()
    def _clean_certificate(self, data: dict) -> None:
        blob = _read_upload(data.get("certificate"))
        password = data.get("certificate_password") or ""
        if not blob:
            if self._stored_method() != ApnsCredential.AuthMethod.CERTIFICATE:
                self.require_secret(
                    "certificate", "Upload the .p12 certificate for certificate authentication."
                )
            elif password:
                self.require_secret(
                    "certificate", "Upload the .p12 again together with its new password."
                )
            return
        facts = _check(self, credentials.check_p12_certificate, ("certificate", blob, password))
        if facts is None:
            return
        self.certificate_facts = facts
        self.new_secret = {"certificate_p12": blob.hex(), "certificate_password": password}
        if not data.get("bundle_id") and facts.bundle_id:
            data["bundle_id"] = facts.bundle_id

    def save(self, commit: bool = True) -> ApnsCredential:
        credential = super().save(commit=False)
        if credential.auth_method == ApnsCredential.AuthMethod.CERTIFICATE:
            credential.key_id = credential.team_id = ""
            facts = getattr(self, "certificate_facts", None)
            if facts:
                credential.certificate_subject = facts.subject
                credential.certificate_expires_at = facts.expires_at
        else:
            credential.certificate_subject, credential.certificate_expires_at = "", None
        return _save_with_secret(self, credential, commit)


class FcmCredentialForm(WriteOnlySecretForm):
    secret_fields = {"service_account": "service_account"}

    service_account = forms.FileField(
        label="Service account (JSON)",
        help_text="The key file of a Firebase service account allowed to send messages.",
    )

    class Meta:
        model = FcmCredential
        fields: list[str] = []

    @sensitive_variables()
    def clean(self) -> dict:
        data = super().clean()
        raw = _read_upload(data.get("service_account"))
        if raw:
            facts = _check(self, credentials.check_service_account, ("service_account", raw))
            if facts:
                self.account_facts = facts
                self.new_secret = {"service_account": raw.decode()}
        elif not self.has_stored_secret():
            self.require_secret("service_account", "Upload the service-account JSON file.")
        return data

    def save(self, commit: bool = True) -> FcmCredential:
        credential = super().save(commit=False)
        facts = getattr(self, "account_facts", None)
        if facts:
            credential.project_id = facts["project_id"]
            credential.client_email = facts["client_email"]
        return _save_with_secret(self, credential, commit)


class WnsCredentialForm(WriteOnlySecretForm):
    """Either flow's fields; the model's clean says which the chosen flow needs, by field."""

    secret_fields = {"client_secret": "client_secret"}

    client_secret = forms.CharField(
        label="Client secret",
        widget=forms.PasswordInput(render_value=False),
        strip=False,
        help_text="The secret's value from Certificates & secrets in the Azure portal, or the "
        "client secret Partner Center shows beside the Package SID.",
    )

    class Meta:
        model = WnsCredential
        fields = [
            "auth_flow",
            "tenant_id",
            "client_id",
            "object_id",
            "package_sid",
            "package_family_name",
        ]

    @sensitive_variables()
    def clean(self) -> dict:
        data = super().clean()
        if data.get("auth_flow") != WnsCredential.AuthFlow.PACKAGE_SID:
            self._check_azure_ids(data)
        if data.get("package_family_name"):
            self.normalize(
                "package_family_name",
                credentials.check_package_family_name,
                ("package_family_name", data["package_family_name"]),
            )
        secret = data.get("client_secret") or ""
        if secret:
            _check(self, credentials.check_wns_client_secret, ("client_secret", secret))
            self.new_secret = {"client_secret": secret}
        elif not self.has_stored_secret():
            self.require_secret("client_secret", "Enter the client secret.")
        return data

    def _check_azure_ids(self, data: dict) -> None:
        for name, what in (
            ("tenant_id", "Tenant ID"),
            ("client_id", "Application (client) ID"),
            ("object_id", "Object ID"),
        ):
            if data.get(name):
                self.normalize(name, credentials.check_guid, (name, data[name], what))

    def save(self, commit: bool = True) -> WnsCredential:
        return _save_with_secret(self, super().save(commit=False), commit)


def _check(form: forms.Form, check: Callable[..., object], args: tuple) -> object:
    """Run one credential check, turning its error into the form's field error."""
    try:
        return check(*args)
    except ValidationError as error:
        form.add_error(None, error)
        return None


@sensitive_variables()
def _save_with_secret(form: WriteOnlySecretForm, credential: ProviderCredential, commit: bool):
    secret = getattr(form, "new_secret", None)
    if secret is not None:
        credential.store_secret(secret)
    if commit:
        credential.save()
    return credential

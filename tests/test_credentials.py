"""Provider credentials: checked on save, encrypted, write-only, and intact after a failed save."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from devices import sample_credentials
from devices.forms import ApnsCredentialForm, FcmCredentialForm, WnsCredentialForm
from devices.models import ApnsCredential, FcmCredential, MobileApp, ValidationStatus, WnsCredential
from tests.conftest import PACKAGE_SID, logged_in
from tests.html_forms import read_form

TOKEN_FIELDS = {
    "auth_method": "token",
    "key_id": "ABCDE12345",
    "team_id": "TEAM123456",
    "bundle_id": "com.contoso.shop",
    "environment": "production",
}


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def pem_of(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture
def shop(organization) -> MobileApp:
    return MobileApp.objects.create(organization=organization, name="shop", display_name="Shop")


def apns_form(app, data: dict, files: dict | None = None) -> ApnsCredentialForm:
    instance = getattr(app, "apns_credential", None) or ApnsCredential(app=app)
    return ApnsCredentialForm(data=data, files=files or {}, instance=instance)


# APNs token authentication


def test_a_p8_token_credential_is_stored_encrypted(shop):
    key = sample_credentials.p8_signing_key()
    form = apns_form(shop, TOKEN_FIELDS, {"signing_key": upload("AuthKey.p8", key)})
    assert form.is_valid(), form.errors
    credential = form.save()
    assert key.decode() not in credential.encrypted_secret
    assert credential.read_secret() == {"signing_key": key.decode()}
    assert credential.secret_set_at is not None
    assert credential.validation_status == ValidationStatus.UNCHECKED


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("key_id", "ABCDE1234", "Key ID must be exactly 10 characters"),
        ("key_id", "abcde12345", "Key ID must be exactly 10 characters"),
        ("team_id", "TEAM12345678", "Team ID must be exactly 10 characters"),
        ("bundle_id", "not a bundle", "Bundle ID must be reverse-DNS"),
        ("bundle_id", "", "Bundle ID is required"),
    ],
)
def test_it_names_the_field_and_rule_of_a_bad_apns_value(shop, field, value, message):
    key = sample_credentials.p8_signing_key()
    form = apns_form(shop, {**TOKEN_FIELDS, field: value}, {"signing_key": upload("k.p8", key)})
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a key", "must be the .p8 file's PEM text"),
        (pem_of(rsa.generate_private_key(public_exponent=65537, key_size=2048)), "EC P-256"),
        (pem_of(ec.generate_private_key(ec.SECP384R1())), "EC P-256"),
    ],
)
def test_it_refuses_a_p8_that_is_not_an_ec_p256_key(shop, content, message):
    form = apns_form(shop, TOKEN_FIELDS, {"signing_key": upload("k.p8", content)})
    assert not form.is_valid()
    assert message in " ".join(form.errors["signing_key"])


def test_a_new_token_credential_needs_its_p8(shop):
    form = apns_form(shop, TOKEN_FIELDS)
    assert not form.is_valid()
    assert "Upload the .p8 signing key" in " ".join(form.errors["signing_key"])


def test_editing_without_a_new_p8_keeps_the_stored_key(retail):
    before = retail.apns_credential.encrypted_secret
    form = apns_form(retail, {**TOKEN_FIELDS, "bundle_id": "com.contoso.retail2"})
    assert form.is_valid(), form.errors
    credential = form.save()
    assert credential.encrypted_secret == before
    assert credential.bundle_id == "com.contoso.retail2"


# APNs certificate authentication

CERT_FIELDS = {"auth_method": "certificate", "bundle_id": "", "environment": "sandbox"}


def test_a_p12_certificate_is_opened_and_its_facts_kept(shop):
    p12 = sample_credentials.p12_certificate("com.contoso.shop", "right")
    form = apns_form(
        shop,
        {**CERT_FIELDS, "certificate_password": "right"},
        {"certificate": upload("push.p12", p12)},
    )
    assert form.is_valid(), form.errors
    credential = form.save()
    assert credential.bundle_id == "com.contoso.shop"
    assert credential.certificate_expires_at is not None
    assert "com.contoso.shop" in credential.certificate_subject
    assert credential.read_secret() == {
        "certificate_p12": p12.hex(),
        "certificate_password": "right",
    }


@pytest.mark.parametrize(
    ("p12", "password", "message"),
    [
        (
            sample_credentials.p12_certificate("com.contoso.shop", "right"),
            "wrong",
            "does not open with this password",
        ),
        (b"garbage", "", "does not open with this password"),
        (
            sample_credentials.p12_certificate("com.contoso.shop", "right", days=-1),
            "right",
            "The certificate expired on",
        ),
    ],
)
def test_it_refuses_a_p12_that_cannot_serve(shop, p12, password, message):
    form = apns_form(
        shop,
        {**CERT_FIELDS, "certificate_password": password},
        {"certificate": upload("push.p12", p12)},
    )
    assert not form.is_valid()
    assert message in " ".join(form.errors["certificate"])


def test_it_refuses_a_p12_without_a_certificate(shop):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    p12 = serialization.pkcs12.serialize_key_and_certificates(
        b"k", key, None, None, serialization.BestAvailableEncryption(b"pw")
    )
    form = apns_form(
        shop,
        {**CERT_FIELDS, "certificate_password": "pw"},
        {"certificate": upload("push.p12", p12)},
    )
    assert not form.is_valid()
    assert "holds no certificate" in " ".join(form.errors["certificate"])


def test_switching_to_certificates_needs_a_p12(retail):
    form = apns_form(retail, {**CERT_FIELDS, "bundle_id": "com.contoso.retail"})
    assert not form.is_valid()
    assert "Upload the .p12 certificate" in " ".join(form.errors["certificate"])


# FCM


def test_a_service_account_is_stored_with_its_project(shop):
    account = sample_credentials.service_account("contoso-shop")
    form = FcmCredentialForm(
        data={},
        files={"service_account": upload("sa.json", account)},
        instance=FcmCredential(app=shop),
    )
    assert form.is_valid(), form.errors
    credential = form.save()
    assert credential.project_id == "contoso-shop"
    assert credential.client_email == "push-center@contoso-shop.iam.gserviceaccount.com"
    assert credential.read_secret() == {"service_account": account.decode()}


def _account_without(*keys: str) -> bytes:
    account = json.loads(sample_credentials.service_account("p"))
    for key in keys:
        del account[key]
    return json.dumps(account).encode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "must be a JSON document"),
        (b"[1, 2]", "must be a JSON object"),
        (_account_without("private_key"), "lacks private_key"),
        (_account_without("client_email", "project_id"), "lacks client_email, project_id"),
        (
            json.dumps(
                {**json.loads(sample_credentials.service_account("p")), "private_key": "nope"}
            ).encode(),
            "private_key is not a PEM key",
        ),
        (
            json.dumps(
                {**json.loads(sample_credentials.service_account("p")), "type": "authorized_user"}
            ).encode(),
            "must be a service account",
        ),
    ],
)
def test_it_refuses_a_broken_service_account(shop, content, message):
    form = FcmCredentialForm(
        data={},
        files={"service_account": upload("sa.json", content)},
        instance=FcmCredential(app=shop),
    )
    assert not form.is_valid()
    assert message in " ".join(form.errors["service_account"])


# WNS

WNS_FIELDS = {
    "auth_flow": "azure_ad",
    "tenant_id": "11111111-1111-4111-8111-111111111111",
    "client_id": "22222222-2222-4222-8222-222222222222",
    "object_id": "33333333-3333-4333-8333-333333333333",
    "package_family_name": "Contoso.Shop_8wekyb3d8bbwe",
    "client_secret": "s3cr3t~value",
}


def test_a_wns_credential_is_stored_with_its_secret_encrypted(shop):
    form = WnsCredentialForm(data=WNS_FIELDS, instance=WnsCredential(app=shop))
    assert form.is_valid(), form.errors
    credential = form.save()
    assert credential.read_secret() == {"client_secret": "s3cr3t~value"}
    assert "s3cr3t~value" not in credential.encrypted_secret


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tenant_id", "contoso", "Tenant ID must be a GUID"),
        ("client_id", "1234", "Application (client) ID must be a GUID"),
        ("object_id", "zzzzzzzz-3333-4333-8333-333333333333", "Object ID must be a GUID"),
        ("package_family_name", "Contoso.Shop", "Package family name must look like"),
        ("client_secret", "has spaces in it", "without spaces"),
    ],
)
def test_it_names_the_field_and_rule_of_a_bad_wns_value(shop, field, value, message):
    form = WnsCredentialForm(data={**WNS_FIELDS, field: value}, instance=WnsCredential(app=shop))
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


# WNS: the Package SID flow of Store apps registered in Partner Center

STORE_FIELDS = {
    "auth_flow": "package_sid",
    "package_sid": PACKAGE_SID,
    "package_family_name": "Contoso.Shop_8wekyb3d8bbwe",
    "client_secret": "partner-center-secret",
}


def test_a_package_sid_credential_is_stored_with_its_secret_encrypted(shop):
    form = WnsCredentialForm(data=STORE_FIELDS, instance=WnsCredential(app=shop))
    assert form.is_valid(), form.errors
    credential = form.save()

    assert (credential.auth_flow, credential.package_sid) == ("package_sid", PACKAGE_SID)
    assert (credential.tenant_id, credential.client_id) == ("", "")
    assert credential.read_secret() == {"client_secret": "partner-center-secret"}
    assert "partner-center-secret" not in credential.encrypted_secret
    secret = credential.for_client()
    assert (secret.package_sid, secret.tenant_id) == (PACKAGE_SID, "")
    assert "partner-center-secret" not in repr(secret)


def test_an_existing_credential_keeps_the_azure_ad_flow(news):
    assert news.wns_credential.auth_flow == WnsCredential.AuthFlow.AZURE_AD
    assert news.wns_credential.for_client().package_sid == ""


@pytest.mark.django_db(transaction=True)
def test_upgrading_keeps_the_azure_ad_flow_of_stored_credentials(news):
    executor = MigrationExecutor(connection)
    executor.migrate([("devices", "0013_drop_manage_all_api_tokens")])
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, "devices_wnscredential")
    assert "auth_flow" not in {column.name for column in columns}

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    credential = WnsCredential.objects.get(app=news)
    assert (credential.auth_flow, credential.package_sid) == ("azure_ad", "")
    assert credential.for_client().tenant_id == "11111111-1111-4111-8111-111111111111"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"package_sid": "s-1-15-2-1-2-3"}, "package_sid", "Package SID must look like"),
        ({"package_sid": "ms-app://s-1-5-21-1-2"}, "package_sid", "Package SID must look like"),
        ({"package_sid": ""}, "package_sid", "The Package SID flow needs the app's Package SID"),
        (
            {"tenant_id": "11111111-1111-4111-8111-111111111111"},
            "tenant_id",
            "Leave this empty for the Package SID flow",
        ),
        (
            {"auth_flow": "azure_ad", "package_sid": ""},
            "tenant_id",
            "The Azure AD flow needs the tenant ID",
        ),
        ({"auth_flow": "azure_ad"}, "client_id", "The Azure AD flow needs the client ID"),
        ({"auth_flow": "azure_ad"}, "package_sid", "Leave this empty for the Azure AD flow"),
    ],
)
def test_it_names_the_field_a_flow_needs_or_refuses(shop, changes, field, message):
    form = WnsCredentialForm(data={**STORE_FIELDS, **changes}, instance=WnsCredential(app=shop))
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_the_app_page_refuses_a_malformed_package_sid_and_changes_nothing(alice, store):
    client = logged_in(alice)
    before = WnsCredential.objects.values().get(app=store)
    page = app_page(client, store).content.decode()
    assert "Package SID (Partner Center / Store)" in page
    assert "store-client-secret-value" not in page
    data = read_form(page, "mobileapp_form")
    data["wns_credential-0-package_sid"] = "ms-app://not-a-sid"
    data["wns_credential-0-client_secret"] = "a-new-secret"

    response = client.post(f"/devices/mobileapp/{store.pk}/change/", data)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Package SID must look like" in html
    assert "a-new-secret" not in html
    assert WnsCredential.objects.values().get(app=store) == before


def test_the_app_page_switches_a_credential_to_the_package_sid_flow(alice, news):
    client = logged_in(alice)
    data = read_form(app_page(client, news).content.decode(), "mobileapp_form")
    for name in ("tenant_id", "client_id", "object_id"):
        data[f"wns_credential-0-{name}"] = ""
    data["wns_credential-0-auth_flow"] = "package_sid"
    data["wns_credential-0-package_sid"] = PACKAGE_SID
    data["wns_credential-0-client_secret"] = "partner-center-secret"

    response = client.post(f"/devices/mobileapp/{news.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    credential = WnsCredential.objects.get(app=news)
    assert (credential.auth_flow, credential.package_sid) == ("package_sid", PACKAGE_SID)
    assert credential.read_secret() == {"client_secret": "partner-center-secret"}
    history = " ".join(str(e.change_message) + e.object_repr for e in LogEntry.objects.all())
    assert "partner-center-secret" not in history


# Through the dashboard


def app_page(client, app: MobileApp):
    return client.get(f"/devices/mobileapp/{app.pk}/change/")


def test_the_app_page_shows_when_secrets_were_set_never_their_values(alice, retail, news):
    client = logged_in(alice)
    retail_html = app_page(client, retail).content.decode()
    key_body = retail.apns_credential.read_secret()["signing_key"].splitlines()[1]
    assert key_body not in retail_html
    assert "BEGIN PRIVATE KEY" not in retail_html
    assert "set on" in retail_html
    news_html = app_page(client, news).content.decode()
    assert "wns-client-secret-value" not in news_html
    assert "set on" in news_html


def test_a_failed_save_keeps_the_previous_credential(alice, retail):
    client = logged_in(alice)
    before = ApnsCredential.objects.values().get(app=retail)
    data = read_form(app_page(client, retail).content.decode(), "mobileapp_form")
    data.update(
        {
            "display_name": "Renamed",
            "apns_credential-0-auth_method": "certificate",
            "apns_credential-0-certificate_password": "wrong",
            "apns_credential-0-certificate": upload(
                "push.p12", sample_credentials.p12_certificate("com.contoso.retail", "right")
            ),
        }
    )
    response = client.post(f"/devices/mobileapp/{retail.pk}/change/", data)
    assert response.status_code == 200
    assert "does not open with this password" in response.content.decode()
    assert ApnsCredential.objects.values().get(app=retail) == before
    assert MobileApp.objects.get(pk=retail.pk).display_name == "Retail"


def test_replacing_a_secret_through_the_dashboard_leaves_no_trace_in_history(alice, news):
    client = logged_in(alice)
    data = read_form(app_page(client, news).content.decode(), "mobileapp_form")
    data["wns_credential-0-client_secret"] = "brand-new-secret"
    response = client.post(f"/devices/mobileapp/{news.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert WnsCredential.objects.get(app=news).read_secret() == {
        "client_secret": "brand-new-secret"
    }
    history = " ".join(
        str(entry.change_message) + entry.object_repr for entry in LogEntry.objects.all()
    )
    assert "Changed Client secret" in LogEntry.objects.get().get_change_message()
    assert "brand-new-secret" not in history

"""Credentials are encrypted at rest and re-encrypted under a new key by a command."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import override_settings

from devices.encryption import DecryptionError, decrypt, encrypt
from devices.models import WnsCredential

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def test_it_round_trips_and_hides_the_plaintext():
    ciphertext = encrypt("wns-client-secret-value")
    assert "wns-client-secret-value" not in ciphertext
    assert decrypt(ciphertext) == "wns-client-secret-value"


def test_stored_secrets_are_not_in_the_database_row(news):
    row = WnsCredential.objects.values("encrypted_secret").get(app=news)
    assert "wns-client-secret-value" not in row["encrypted_secret"]
    assert WnsCredential.objects.get(app=news).read_secret() == {
        "client_secret": "wns-client-secret-value"
    }


def test_it_says_which_setting_lost_the_key():
    with override_settings(ENCRYPTION_KEYS=[OLD_KEY]):
        ciphertext = encrypt("secret")
    with override_settings(ENCRYPTION_KEYS=[NEW_KEY]), pytest.raises(DecryptionError) as error:
        decrypt(ciphertext)
    assert "PUSHCENTER_ENCRYPTION_KEYS" in str(error.value)


def test_rotation_re_encrypts_everything_under_the_newest_key(retail, news):
    credentials = [retail.apns_credential, retail.fcm_credential, news.wns_credential]
    with override_settings(ENCRYPTION_KEYS=[OLD_KEY]):
        for credential in credentials:
            credential.store_secret({"value": str(credential)})
            credential.save()
    with override_settings(ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        output = StringIO()
        call_command("rotate_encryption_keys", stdout=output)
    assert "Re-encrypted 3 credential(s)" in output.getvalue()
    with override_settings(ENCRYPTION_KEYS=[NEW_KEY]):
        for credential in credentials:
            credential.refresh_from_db()
            assert credential.read_secret() == {"value": str(credential)}


def test_rotation_changes_nothing_when_a_secret_cannot_be_opened(retail, news):
    before = {c.pk: c.encrypted_secret for c in WnsCredential.objects.all()}
    with override_settings(ENCRYPTION_KEYS=[NEW_KEY]), pytest.raises(CommandError) as error:
        call_command("rotate_encryption_keys")
    assert "nothing was changed" in str(error.value)
    assert {c.pk: c.encrypted_secret for c in WnsCredential.objects.all()} == before

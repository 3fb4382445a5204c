"""Settings come from the environment; production refuses development secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
PRINT_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
names = %s
print(json.dumps({n: getattr(settings, n) for n in names}, default=str))
"""


def run_settings(env: dict[str, str], *names: str) -> subprocess.CompletedProcess:
    """Load the settings in a fresh interpreter with exactly these variables set."""
    ours = ("PUSHCENTER_", "DEBUG", "DATABASE_URL", "CELERY_")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    clean.update({"DJANGO_SETTINGS_MODULE": "pushcenter.settings", **env})
    code = PRINT_SETTINGS % json.dumps(list(names))
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_under(env: dict[str, str], *names: str) -> dict:
    result = run_settings(env, *names)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


PRODUCTION = {
    "DEBUG": "0",
    "PUSHCENTER_SECRET_KEY": "x" * 50,
    "PUSHCENTER_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    # Named, not connected to: loading the settings opens no connection.
    "PUSHCENTER_CACHE_URL": "redis://127.0.0.1:6379/1",
}


def test_it_refuses_the_development_secret_key_when_debug_is_off():
    env = {**PRODUCTION}
    del env["PUSHCENTER_SECRET_KEY"]
    result = run_settings(env, "SECRET_KEY")
    assert result.returncode != 0
    assert "PUSHCENTER_SECRET_KEY" in result.stderr


def test_it_refuses_the_development_encryption_key_when_debug_is_off():
    env = {**PRODUCTION}
    del env["PUSHCENTER_ENCRYPTION_KEYS"]
    result = run_settings(env, "SECRET_KEY")
    assert result.returncode != 0
    assert "PUSHCENTER_ENCRYPTION_KEYS" in result.stderr


def test_it_names_a_malformed_encryption_key():
    result = run_settings({"PUSHCENTER_ENCRYPTION_KEYS": "not-a-key"}, "ENCRYPTION_KEYS")
    assert result.returncode != 0
    assert "PUSHCENTER_ENCRYPTION_KEYS: key 1 is not a Fernet key" in result.stderr


def test_it_names_a_malformed_boolean():
    result = run_settings({"DEBUG": "maybe"}, "DEBUG")
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_production_settings_start_with_private_keys_and_secure_cookies():
    values = settings_under(PRODUCTION, "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
    assert values == {"DEBUG": False, "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True}


def test_hsts_is_behind_a_setting():
    assert settings_under(PRODUCTION, "SECURE_HSTS_SECONDS") == {"SECURE_HSTS_SECONDS": 0}
    env = {**PRODUCTION, "PUSHCENTER_HSTS_SECONDS": "31536000"}
    assert settings_under(env, "SECURE_HSTS_SECONDS") == {"SECURE_HSTS_SECONDS": 31536000}


def test_database_url_is_read_from_the_environment():
    env = {"DATABASE_URL": "postgres://someone@db.example:5433/push"}
    database = settings_under(env, "DATABASES")["DATABASES"]["default"]
    assert (database["ENGINE"], database["HOST"], database["PORT"], database["NAME"]) == (
        "django.db.backends.postgresql",
        "db.example",
        5433,
        "push",
    )


def test_the_laptop_defaults_are_sqlite_under_var_and_an_embedded_broker(tmp_path):
    values = settings_under(
        {"PUSHCENTER_VAR_DIR": str(tmp_path)},
        "DATABASES",
        "CELERY_BROKER_URL",
        "CELERY_RESULT_BACKEND",
    )
    assert values["DATABASES"]["default"]["NAME"] == str(tmp_path / "pushcenter.sqlite3")
    assert values["CELERY_BROKER_URL"] == "filesystem://"
    assert values["CELERY_RESULT_BACKEND"] == f"file://{tmp_path / 'broker' / 'results'}"


PROVIDER_SETTINGS = (
    "APNS_PRODUCTION_URL",
    "APNS_DEVELOPMENT_URL",
    "FCM_URL",
    "FCM_TOKEN_URL",
    "WNS_TOKEN_URL",
    "WNS_LEGACY_TOKEN_URL",
    "WNS_HOSTS",
)


def test_providers_default_to_the_real_services():
    assert settings_under({}, *PROVIDER_SETTINGS) == {
        "APNS_PRODUCTION_URL": "https://api.push.apple.com",
        "APNS_DEVELOPMENT_URL": "https://api.sandbox.push.apple.com",
        "FCM_URL": "https://fcm.googleapis.com",
        "FCM_TOKEN_URL": "https://oauth2.googleapis.com/token",
        "WNS_TOKEN_URL": "https://login.microsoftonline.com",
        "WNS_LEGACY_TOKEN_URL": "https://login.live.com/accesstoken.srf",
        "WNS_HOSTS": ["notify.windows.com"],
    }


def test_the_sandbox_switch_points_providers_at_loopback():
    values = settings_under({"PUSHCENTER_SANDBOX": "1"}, *PROVIDER_SETTINGS)
    assert values["APNS_PRODUCTION_URL"] == "https://localhost:9441"
    assert values["FCM_TOKEN_URL"] == "https://localhost:9442/token"
    assert values["WNS_HOSTS"] == ["notify.windows.com", "localhost:9443"]


def test_the_sandbox_urls_and_hosts_follow_the_sandbox_ports():
    env = {"PUSHCENTER_SANDBOX": "1", "PUSHCENTER_SANDBOX_PORTS": "9541"}
    values = settings_under(
        env, "SANDBOX_APNS_PORT", "SANDBOX_FCM_PORT", "SANDBOX_WNS_PORT", *PROVIDER_SETTINGS
    )
    assert values == {
        "SANDBOX_APNS_PORT": 9541,
        "SANDBOX_FCM_PORT": 9542,
        "SANDBOX_WNS_PORT": 9543,
        "APNS_PRODUCTION_URL": "https://localhost:9541",
        "APNS_DEVELOPMENT_URL": "https://localhost:9541",
        "FCM_URL": "https://localhost:9542",
        "FCM_TOKEN_URL": "https://localhost:9542/token",
        "WNS_TOKEN_URL": "https://localhost:9543",
        "WNS_LEGACY_TOKEN_URL": "https://localhost:9543/accesstoken.srf",
        "WNS_HOSTS": ["notify.windows.com", "localhost:9543"],
    }


def test_the_sandbox_ports_leave_the_real_providers_alone_without_the_sandbox_switch():
    values = settings_under({"PUSHCENTER_SANDBOX_PORTS": "9541"}, "SANDBOX_WNS_PORT", "FCM_URL")
    assert values == {"SANDBOX_WNS_PORT": 9543, "FCM_URL": "https://fcm.googleapis.com"}


@pytest.mark.parametrize("value", ["nine", "0", "65534"])
def test_it_names_unusable_sandbox_ports(value):
    result = run_settings({"PUSHCENTER_SANDBOX_PORTS": value}, "SANDBOX_APNS_PORT")
    assert result.returncode != 0
    assert "PUSHCENTER_SANDBOX_PORTS" in result.stderr


@pytest.mark.parametrize(
    ("variable", "setting"),
    [
        ("PUSHCENTER_APNS_URL", "APNS_PRODUCTION_URL"),
        ("PUSHCENTER_APNS_URL", "APNS_DEVELOPMENT_URL"),
        ("PUSHCENTER_FCM_URL", "FCM_URL"),
        ("PUSHCENTER_FCM_TOKEN_URL", "FCM_TOKEN_URL"),
        ("PUSHCENTER_WNS_TOKEN_URL", "WNS_TOKEN_URL"),
        ("PUSHCENTER_WNS_LEGACY_TOKEN_URL", "WNS_LEGACY_TOKEN_URL"),
    ],
)
def test_an_explicit_endpoint_wins_over_the_sandbox_switch(variable, setting):
    env = {"PUSHCENTER_SANDBOX": "1", variable: "https://gateway.test:1234"}
    assert settings_under(env, setting) == {setting: "https://gateway.test:1234"}


@pytest.mark.parametrize(
    ("variable", "url"),
    [
        ("PUSHCENTER_APNS_URL", "http://gateway.test:1234"),
        ("PUSHCENTER_FCM_URL", "http://gateway.test:1234"),
        ("PUSHCENTER_FCM_TOKEN_URL", "http://gateway.test:1234/token"),
        ("PUSHCENTER_WNS_TOKEN_URL", "http://gateway.test:1234"),
        ("PUSHCENTER_APNS_URL", "gateway.test"),
    ],
)
def test_it_refuses_a_plain_http_provider_url(variable, url):
    result = run_settings({variable: url}, "APNS_PRODUCTION_URL")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert (
        f"{variable} must be an https:// URL: bearer tokens are never sent in clear text; "
        f"got {url!r}"
    ) in result.stderr


def test_it_refuses_a_plain_http_provider_url_even_in_sandbox_mode():
    env = {"PUSHCENTER_SANDBOX": "1", "PUSHCENTER_APNS_URL": "http://localhost:9441"}
    result = run_settings(env, "APNS_PRODUCTION_URL")
    assert result.returncode != 0
    assert "PUSHCENTER_APNS_URL must be an https:// URL" in result.stderr


def test_responses_carry_the_security_headers(client, db):
    response = client.get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"

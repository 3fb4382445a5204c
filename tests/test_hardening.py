"""Server and dashboard hardening: `manage.py serve` refuses insecure starts, error reports mask
passwords inside URLs, logins are throttled, passwords can be reset, and every dashboard page
carries a Content-Security-Policy.

Personas as in conftest: alice (App administrator), bob (Marketer), root (superuser).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import path

from pushcenter.error_reports import mask_url_passwords
from pushcenter.management.commands.serve import serving_environment
from tests.conftest import PASSWORD, logged_in
from tests.test_demo import ROOT, laptop_environment
from tests.test_settings import run_settings, settings_under
from tests.waiting import wait_for

MASK = "********************"
SECRET = "s3cr3t-pw"


def serve(env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run `manage.py serve` in a fresh interpreter; it must refuse before starting anything."""
    return subprocess.run(
        [sys.executable, "manage.py", "serve", "--port", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_refuses_to_start_on_the_development_keys(tmp_path):
    result = serve(laptop_environment(tmp_path))
    assert result.returncode == 1
    assert "Refusing to serve with DEBUG off: PUSHCENTER_SECRET_KEY must be set" in result.stderr
    assert not (tmp_path / "pushcenter.sqlite3").exists()  # not even migrated


def test_serve_refuses_to_start_on_the_development_encryption_key(tmp_path):
    env = {**laptop_environment(tmp_path), "PUSHCENTER_SECRET_KEY": "k" * 40}
    result = serve(env)
    assert result.returncode == 1
    assert "PUSHCENTER_ENCRYPTION_KEYS must be set to your own keys" in result.stderr


@pytest.mark.parametrize(
    ("cache_url", "described"),
    [("", "no URL"), ("memcached://user:pw@cache:11211", "a memcached:// URL")],
)
def test_serve_refuses_to_start_without_a_shared_cache(tmp_path, cache_url, described):
    env = {
        **laptop_environment(tmp_path),
        "PUSHCENTER_SECRET_KEY": "k" * 40,
        "PUSHCENTER_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PUSHCENTER_CACHE_URL": cache_url,
    }
    result = serve(env)
    assert result.returncode == 1
    assert "PUSHCENTER_CACHE_URL must name a Redis server" in result.stderr
    assert f"got {described}" in result.stderr
    assert "pw" not in result.stderr


@pytest.fixture
def private_keys(monkeypatch):
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("PUSHCENTER_CACHE_URL", "redis://127.0.0.1:6379/1")
    with override_settings(SECRET_KEY="k" * 40, ENCRYPTION_KEYS=[key]):
        yield


def test_serve_turns_debug_off_when_it_is_not_set(private_keys, monkeypatch):
    monkeypatch.delenv("DEBUG", raising=False)
    assert serving_environment()["DEBUG"] == "0"


def test_serve_keeps_debug_when_it_is_set_explicitly(monkeypatch):
    monkeypatch.setenv("DEBUG", "1")
    assert serving_environment()["DEBUG"] == "1"  # development keys allowed, as asked


def test_settings_with_debug_off_refuse_a_cache_that_is_not_shared():
    env = {"DEBUG": "0", "PUSHCENTER_SECRET_KEY": "k" * 40}
    env["PUSHCENTER_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    result = run_settings(env, "CACHES")
    assert result.returncode != 0
    assert "PUSHCENTER_CACHE_URL must name a Redis server" in result.stderr


# Error reports. A view that fails with secrets in its settings, its request and its locals.


def fail(request):
    from django.conf import settings

    broker = settings.CELERY_BROKER_URL  # noqa: F841 - shown among the frame's variables
    raise RuntimeError("boom")


urlpatterns = [path("fail/", fail)]

URL_SETTINGS = {
    "CELERY_BROKER_URL": f"redis://:{SECRET}@redis.internal:6379/0",
    "CELERY_RESULT_BACKEND": f"redis://:{SECRET}@redis.internal:6379/0",
    "CACHES": {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"redis://cache:{SECRET}@redis.internal:6379/1",
        }
    },
    "SOME_SERVICE": [f"amqp://push:{SECRET}@rabbit:5672//"],
}


@pytest.mark.urls("tests.test_hardening")
def test_the_debug_error_page_masks_every_password_inside_a_url(db):
    client = Client(raise_request_exception=False)
    with override_settings(DEBUG=True, **URL_SETTINGS):
        response = client.get(
            "/fail/", DATABASE_URL=f"postgres://push:{SECRET}@db.internal:5432/push"
        )
    page = response.content.decode()
    assert response.status_code == 500
    assert "RuntimeError" in page and "boom" in page  # the technical 500 report
    assert SECRET not in page
    assert f"redis://:{MASK}@redis.internal:6379/0" in page  # settings and the frame's local
    assert f"redis://cache:{MASK}@redis.internal:6379/1" in page  # inside a dict
    assert f"amqp://push:{MASK}@rabbit:5672//" in page  # inside a list
    assert f"postgres://push:{MASK}@db.internal:5432/push" in page  # request.META


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("redis://:pw@host:6379/0", f"redis://:{MASK}@host:6379/0"),
        ("redis://:p@ss@host/0", f"redis://:{MASK}@host/0"),
        (
            "sentinel://:a@h1:1/0;sentinel://:b@h2:2/0",
            f"sentinel://:{MASK}@h1:1/0;sentinel://:{MASK}@h2:2/0",
        ),
        ("https://host:443/path@x", "https://host:443/path@x"),
        ("redis://user@host:6379", "redis://user@host:6379"),
    ],
)
def test_it_masks_the_password_of_a_url_and_nothing_else(text, masked):
    assert mask_url_passwords(text, MASK) == masked


# Login: throttled per username and per address, landing on the dashboard.


@pytest.fixture
def fresh_cache():
    """Failed-login counts live in the cache, which outlives a test: start and end empty."""
    cache.clear()
    yield
    cache.clear()


def log_in(client: Client, username: str, password: str, address: str = "192.0.2.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_a_login_without_next_lands_on_the_dashboard(alice, fresh_cache):
    client = Client()
    response = log_in(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_username_is_locked_after_five_failures_from_any_addresses(alice, fresh_cache):
    for attempt in range(5):
        response = log_in(Client(), "alice", "wrong", address=f"192.0.2.{attempt + 10}")
        assert "Please enter the correct username and password" in response.content.decode()
    client = Client()
    response = log_in(client, "ALICE", PASSWORD, address="198.51.100.7")
    assert response.status_code == 200
    assert (
        "Too many failed logins for this username. Try again in 15 minute(s), "
        "or reset your password."
    ) in response.content.decode()
    assert not is_logged_in(client)


def test_an_address_is_locked_after_twenty_failures_whatever_the_usernames(alice, fresh_cache):
    for attempt in range(20):
        log_in(Client(), f"guess{attempt}", "wrong", address="203.0.113.9")
    client = Client()
    response = log_in(client, "alice", PASSWORD, address="203.0.113.9")
    assert "Too many failed logins from your address." in response.content.decode()
    assert not is_logged_in(client)
    elsewhere = Client()
    assert log_in(elsewhere, "alice", PASSWORD, address="198.51.100.7").status_code == 302
    assert is_logged_in(elsewhere)


def test_a_successful_login_forgets_the_usernames_failures(alice, fresh_cache):
    for _ in range(4):
        log_in(Client(), "alice", "wrong")
    assert log_in(Client(), "alice", PASSWORD).status_code == 302
    for _ in range(4):
        log_in(Client(), "alice", "wrong")
    assert log_in(Client(), "alice", PASSWORD).status_code == 302


# Long enough for one more login (a password hash) to find the lock on a busy machine.
@override_settings(LOGIN_LOCKOUT_SECONDS=4)
def test_the_right_password_works_again_once_the_lock_expires(alice, fresh_cache):
    for _ in range(5):
        log_in(Client(), "alice", "wrong")
    refused = log_in(Client(), "alice", PASSWORD)
    assert "Too many failed logins for this username." in refused.content.decode()
    # A refused login is not a failure: trying while the lock lasts does not make it last longer.
    wait_for(
        lambda: log_in(Client(), "alice", PASSWORD).status_code == 302,
        30,
        "the lock expires and the right password logs in",
        every=0.5,
    )


@override_settings(BEHIND_TLS_PROXY=True)
def test_behind_the_proxy_the_address_is_the_one_the_proxy_saw(alice, fresh_cache):
    for attempt in range(20):
        Client().post(
            "/login/",
            {"username": f"guess{attempt}", "password": "wrong"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt}, 203.0.113.9",  # first part forged
        )
    refused = Client().post(
        "/login/",
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert "Too many failed logins from your address." in refused.content.decode()
    other = Client().post(
        "/login/",
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.50",
    )
    assert other.status_code == 302


def test_a_login_limit_below_one_is_refused_by_name():
    result = run_settings({"PUSHCENTER_LOGIN_FAILURES_PER_USERNAME": "0"}, "DEBUG")
    assert result.returncode != 0
    assert "PUSHCENTER_LOGIN_FAILURES_PER_USERNAME must be at least 1; got '0'" in result.stderr


# Password reset, end to end with Django's locmem email backend (pytest-django's default).


def test_a_forgotten_password_is_reset_from_the_login_page(alice, fresh_cache):
    client = Client()
    login_page = client.get("/login/").content.decode()
    assert 'href="/password_reset/"' in login_page

    form = client.get("/password_reset/")
    assert "Push Center" in form.content.decode()  # the dashboard's header
    response = client.post("/password_reset/", {"email": "alice@example.com"})
    assert response["Location"] == "/password_reset/done/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.com"]
    link = re.search(r"http://testserver(/reset/\S+/\S+/)", mail.outbox[0].body).group(1)

    set_password = client.get(link, follow=True)
    assert "Enter new password" in set_password.content.decode()
    new = "a brand new passphrase 42"
    done = client.post(
        set_password.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert done["Location"] == "/reset/done/"
    assert "Your password has been set" in client.get("/reset/done/").content.decode()

    assert "Please enter the correct" in log_in(Client(), "alice", PASSWORD).content.decode()
    assert log_in(Client(), "alice", new).status_code == 302
    # The link is spent.
    assert "invalid" in client.get(link, follow=True).content.decode()


def test_a_reset_for_an_unknown_address_sends_nothing_and_says_the_same(db, fresh_cache):
    response = Client().post("/password_reset/", {"email": "nobody@example.com"})
    assert response["Location"] == "/password_reset/done/"
    assert mail.outbox == []


def test_reset_requests_from_one_address_are_limited(alice, fresh_cache):
    for _ in range(20):
        Client().post("/password_reset/", {"email": "alice@example.com"}, REMOTE_ADDR="192.0.2.5")
    assert len(mail.outbox) == 20
    refused = Client().post(
        "/password_reset/", {"email": "alice@example.com"}, REMOTE_ADDR="192.0.2.5"
    )
    assert "Too many password resets from your address." in refused.content.decode()
    assert len(mail.outbox) == 20


# Email settings come from one URL.


def test_email_is_printed_on_a_laptop_and_sent_by_smtp_in_production(tmp_path):
    laptop = settings_under({"PUSHCENTER_VAR_DIR": str(tmp_path)}, "EMAIL_BACKEND")
    assert laptop["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    env = {
        "PUSHCENTER_EMAIL_URL": "smtp+tls://push%40example.com:p%40ss@mail.example.com",
        "DEFAULT_FROM_EMAIL": "Push <push@example.com>",
    }
    names = ("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER")
    names += ("EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS", "EMAIL_USE_SSL", "DEFAULT_FROM_EMAIL")
    assert settings_under(env, *names) == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "push@example.com",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "DEFAULT_FROM_EMAIL": "Push <push@example.com>",
    }
    smtps = settings_under({"PUSHCENTER_EMAIL_URL": "smtps://mail.example.com"}, "EMAIL_PORT")
    assert smtps == {"EMAIL_PORT": 465}


def test_a_malformed_email_url_is_named_without_its_password():
    result = run_settings({"PUSHCENTER_EMAIL_URL": "http://u:hunter2@mail"}, "EMAIL_HOST")
    assert result.returncode != 0
    assert "PUSHCENTER_EMAIL_URL must be console: or an smtp://" in result.stderr
    assert "hunter2" not in result.stderr


# Content-Security-Policy.


def policy_nonce(response) -> str:
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    return re.search(r"script-src 'self' 'nonce-([\w-]+)'", policy).group(1)


def test_dashboard_pages_carry_a_policy_with_a_fresh_nonce(root, retail, fresh_cache):
    client = logged_in(root)
    nonces = set()
    for url in ("/", "/devices/mobileapp/", "/campaigns/notification/add/", "/segments/segment/"):
        response = client.get(url)
        assert response.status_code == 200, url
        nonces.add(policy_nonce(response))
    nonces.add(policy_nonce(Client().get("/login/")))
    assert len(nonces) == 5


def test_the_api_docs_inline_script_carries_the_policys_nonce(db):
    response = Client().get("/api/docs/")
    nonce = policy_nonce(response)
    page = response.content.decode()
    assert f'<script nonce="{nonce}">' in page and f'<style nonce="{nonce}">' in page


OUR_TEMPLATES = Path(__file__).resolve().parent.parent / "pushcenter" / "templates"


@pytest.mark.parametrize("template", sorted(OUR_TEMPLATES.rglob("*.html")), ids=str)
def test_no_template_has_inline_code_the_policy_would_block(template):
    html = template.read_text()
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute"
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", html):
        assert "src=" in tag or "nonce=" in tag, tag

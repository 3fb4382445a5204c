"""Each API token has a rate limit; past it the API answers 429 with Retry-After."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import override_settings

from devices.models import ApiToken, Device, TokenKind
from devices.services import hash_token, issue_api_token
from tests.test_device_api import SEED_BODY, api, put


@pytest.fixture(autouse=True)
def empty_counters():
    cache.clear()
    yield
    cache.clear()


@override_settings(API_RATE=(3, 60))
def test_the_fourth_call_in_a_window_gets_429_with_retry_after(retail, retail_token):
    url = f"/api/v1/apps/{retail.application_id}"
    assert [api(retail_token).get(url).status_code for _ in range(3)] == [200, 200, 200]
    response = api(retail_token).get(url)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["error"]["code"] == "throttled"


@override_settings(API_RATE=(2, 60))
def test_the_limit_counts_each_token_apart(retail, retail_token):
    _, other_token = issue_api_token(retail, "Second backend")
    url = f"/api/v1/apps/{retail.application_id}"
    for _ in range(2):
        api(retail_token).get(url)
    assert api(retail_token).get(url).status_code == 429
    assert api(other_token).get(url).status_code == 200


@override_settings(API_RATE=(1, 60))
def test_a_throttled_registration_changes_nothing(retail, retail_token):
    assert put(retail_token, retail, SEED_BODY).status_code == 201
    before = Device.objects.values().get()
    assert put(retail_token, retail, {**SEED_BODY, "locale": "de-DE"}).status_code == 429
    assert Device.objects.values().get() == before


@override_settings(API_RATE=(2, 60), CLIENT_KEY_RATE=(1000, 60), CLIENT_ADDRESS_RATE=(1000, 60))
def test_a_token_whose_text_names_another_kind_is_counted_as_its_own_kind(retail):
    """The request is counted with the lookup for the kind the text names; a token made by
    hand whose kind differs is counted again in its own kind's windows, never let through."""
    plaintext = "pc_c_made-by-hand-for-a-server"
    ApiToken.objects.create(
        app=retail, kind=TokenKind.SERVER, name="odd", prefix=plaintext[:13],
        token_hash=hash_token(plaintext),
    )  # fmt: skip
    url = f"/api/v1/apps/{retail.application_id}"
    assert [api(plaintext).get(url).status_code for _ in range(3)] == [200, 200, 429]


SETTINGS = "pushcenter.settings"
CALL_FROM_ANOTHER_PROCESS = """
import sys
import django
django.setup()
from django.test import Client
response = Client(HTTP_HOST="localhost").get(sys.argv[1], HTTP_X_API_TOKEN=sys.argv[2])
print(response.status_code)
"""


@pytest.mark.skipif(
    not os.environ.get("PUSHCENTER_CACHE_URL", "").startswith("redis"),
    reason="needs PUSHCENTER_CACHE_URL naming a Redis server",
)
@override_settings(API_RATE=(2, 60))
def test_the_limit_holds_across_processes(retail, retail_token):
    """Another process, as another gunicorn worker, counts on the same Redis counter.

    It asks for no app of the token's, so it needs nothing but the cached token, and is
    answered 404 after being counted.
    """
    url = f"/api/v1/apps/{retail.application_id}"
    assert api(retail_token).get(url).status_code == 200  # the token is now in the cache
    elsewhere = f"/api/v1/apps/{uuid.UUID(int=0)}"
    other = subprocess.run(
        [sys.executable, "-c", CALL_FROM_ANOTHER_PROCESS, elsewhere, retail_token],
        env={**os.environ, "PUSHCENTER_API_RATE": "2/m", "DJANGO_SETTINGS_MODULE": SETTINGS},
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert other.stdout.split()[-1:] == ["404"], other.stderr
    assert api(retail_token).get(url).status_code == 429

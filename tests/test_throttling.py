"""Each API token has a rate limit; past it the API answers 429 with Retry-After."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import override_settings

from devices.models import Device
from devices.services import issue_api_token
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

"""Hostile input: no body, cursor, URL or date gives a 500, an HTML page or unbounded work.

The sweep at the end walks every URL pattern named api-* and every method its view allows, so a
new endpoint is covered without anyone adding it here.
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from campaigns.models import Notification
from devices.models import Device
from devices.registration import register_device
from events.models import Event
from segments.models import Segment
from tests.conftest import logged_in
from tests.html_forms import read_form
from tests.notification_forms import errors, form_data, schedule
from tests.test_device_api import SEED_BODY, api
from tests.test_segment_com_webhook import set_secret

pytest_plugins = ["tests.sandbox"]

INSTALL = "00000000-0000-4000-8000-000000000001"
DEEP = b"[" * 200_000


def events_url(app) -> str:
    return f"/api/v1/apps/{app.application_id}/events"


def raw(client: Client, method: str, url: str, body: bytes, content_type: str, **extra):
    return client.generic(method, url, body, content_type=content_type, **extra)


def error_of(response, status: int) -> dict:
    """Assert a JSON error answer with this status; return its error object."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    error = response.json()["error"]
    assert set(error) == {"code", "message", "field"}
    return error


# Request bodies: depth, size, encoding, content type


def test_deep_nesting_is_refused_by_name(retail, retail_token):
    response = raw(api(retail_token), "POST", events_url(retail), DEEP, "application/json")
    error = error_of(response, 400)
    assert "200,000 levels deep; at most 32 are allowed" in error["message"]
    assert not Event.objects.exists()


def test_without_a_header_token_the_body_is_not_parsed(retail):
    response = raw(Client(), "POST", events_url(retail), DEEP, "application/json")
    assert error_of(response, 401)
    assert not Event.objects.exists()


def test_the_door_that_reads_its_token_from_the_body_refuses_deep_nesting(retail):
    url = reverse(
        "api-d365-device",
        args=[retail.organization.organization_id, retail.application_id, "someone"],
    )
    error = error_of(raw(Client(), "POST", url, DEEP, "application/json"), 400)
    assert "at most 32 are allowed" in error["message"]


def test_nesting_of_32_levels_is_parsed(retail, retail_token):
    body = {"name": "deep", "user_ids": ["u1"], "properties": {"a": [[[[[[[[[[1]]]]]]]]]]}}
    text = json.dumps(body).encode()
    response = raw(api(retail_token), "POST", events_url(retail), text, "application/json")
    assert response.status_code == 202, response.json()


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(retail):
    # The test client's payload raises if more than its 2 bytes are read.
    response = Client().post(
        events_url(retail), b"{}", content_type="application/json", CONTENT_LENGTH="10000000000"
    )
    error = error_of(response, 413)
    assert error["code"] == "body_too_large"
    assert "(10,000,000,000 bytes) is over the limit of 4,194,304 bytes" in error["message"]


def test_a_body_one_byte_over_the_limit_is_413_and_one_at_the_limit_is_parsed(retail, retail_token):
    limit = settings.API_MAX_BODY_BYTES
    over = b" " * (limit + 1)
    response = raw(api(retail_token), "POST", events_url(retail), over, "application/json")
    assert error_of(response, 413)["code"] == "body_too_large"
    at = b'{"name": "x", "user_ids": ["u1"]}'.ljust(limit)
    response = raw(api(retail_token), "POST", events_url(retail), at, "application/json")
    assert response.status_code == 202, response.json()


@override_settings(API_MAX_BODY_BYTES=1000)
def test_the_parser_caps_what_it_reads_without_the_middleware(retail, retail_token):
    middleware = [m for m in settings.MIDDLEWARE if "ApiBodyLimit" not in m]
    with override_settings(MIDDLEWARE=middleware):
        body = json.dumps({"name": "x", "user_ids": ["u" * 2000]}).encode()
        response = raw(api(retail_token), "POST", events_url(retail), body, "application/json")
    assert error_of(response, 413)["code"] == "body_too_large"


def test_the_largest_legitimate_events_body_fits_the_default_limit(retail, retail_token):
    body = {
        "name": "product_on_sale",
        "user_ids": [f"{n:05d}".ljust(256, "u") for n in range(10_000)],
        "install_ids": [str(uuid.UUID(int=n)) for n in range(10_000)],
        "properties": {"note": "x" * 4000},
    }
    text = json.dumps(body, indent=2).encode()
    assert 3_000_000 < len(text) <= settings.API_MAX_BODY_BYTES
    response = raw(api(retail_token), "POST", events_url(retail), text, "application/json")
    assert response.status_code == 202, response.json()


@override_settings(DEBUG=True)
def test_a_body_over_djangos_own_limit_is_json_even_with_debug_on(retail):
    # The Segment.com webhook reads request.body, which Django bounds (DATA_UPLOAD_MAX_MEMORY_SIZE).
    body = b'{"type": "track", "event": "' + b"x" * 3_000_000 + b'"}'
    set_secret(retail, "segment-shared-secret-0123456789")
    client = Client(raise_request_exception=False)
    url = f"/api/v1/apps/{retail.application_id}/segment"
    response = client.post(url, body, content_type="application/json", HTTP_X_SIGNATURE="00")
    error = error_of(response, 413)
    assert error["code"] == "body_too_large" and "limit of 2,621,440 bytes" in error["message"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (b'{"name": "\xff"}', "application/json", 400, "not valid UTF-8"),
        ('{"name": "x"}'.encode("utf-16"), "application/json; charset=utf-16", 415, "UTF-8"),
        (b'{"name": "x"}', "text/plain", 415, "text/plain"),
        (b"name=x", "application/x-www-form-urlencoded", 415, "urlencoded"),
        (b"", "application/json", 400, "name"),
        (b"null", "application/json", 400, "No data provided"),
        (b"[1]", "application/json", 400, "Expected a dictionary"),
        (b'"x"', "application/json", 400, "Expected a dictionary"),
        (b'{"name": 1e400}', "application/json", 400, "too large for a 64-bit float"),
        (b'{"name": 123456789012345678901234567890}', "application/json", 400, "64 bits"),
        (b'{"name": ' + b"9" * 5000 + b"}", "application/json", 400, "64 bits"),
        (b'{"name": NaN}', "application/json", 400, "NaN"),
        (b'{"name": "a\x00b"}', "application/json", 400, "JSON parse error"),
    ],
)
def test_each_malformed_body_is_a_json_4xx_and_stores_nothing(
    retail, retail_token, body, content_type, status, words
):
    response = raw(api(retail_token), "POST", events_url(retail), body, content_type)
    error = error_of(response, status)
    assert words in f"{error['field']} {error['message']}"
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"name": "a\\u0000b", "user_ids": ["u1"]}', "name"),
        ('{"name": "x", "user_ids": ["u1", "\\ud800"]}', "user_ids.1"),
        ('{"name": "x", "user_ids": ["u1"], "properties": {"\\udfff": 1}}', "properties"),
    ],
)
def test_nul_and_lone_surrogates_are_refused_naming_the_field(retail, retail_token, text, field):
    response = raw(api(retail_token), "POST", events_url(retail), text.encode(), "application/json")
    error = error_of(response, 400)
    assert error["field"] == field and "NUL characters or unpaired" in error["message"]


def test_a_pair_of_surrogate_escapes_is_one_character_and_accepted(retail, retail_token):
    text = b'{"name": "x", "user_ids": ["\\ud83d\\ude00"]}'
    response = raw(api(retail_token), "POST", events_url(retail), text, "application/json")
    assert response.status_code == 202, response.json()


def test_the_push_apis_trailing_commas_still_parse_within_the_limits(retail, retail_token):
    url = f"/api/v0.1/apps/{retail.organization.name}/{retail.name}/push/notifications"
    text = b'{"notification_content": {"name": "x", "title": "[,]", "body": "b",},}'
    response = raw(api(retail_token), "POST", url, text, "application/json")
    assert response.status_code == 202, response.json()
    assert Notification.objects.get().title_en == "[,]"
    response = raw(api(retail_token), "POST", url, DEEP, "application/json")
    assert "at most 32" in error_of(response, 400)["message"]


# The dashboard's JSON fields: Django's own limits, and no 500


def test_the_composers_json_fields_refuse_deep_nesting_at_the_field(bob, retail):
    response = schedule(logged_in(bob), form_data(retail, custom_data=DEEP.decode()))
    assert response.status_code == 200
    assert "at most 32 are allowed" in " ".join(errors(response)["custom_data"])
    assert not Notification.objects.exists()


def test_the_app_page_refuses_deep_custom_property_types(alice, retail):
    client = logged_in(alice)
    page = f"/devices/mobileapp/{retail.pk}/change/"
    data = read_form(client.get(page).content.decode(), "mobileapp_form")
    response = client.post(page, {**data, "custom_property_types": DEEP.decode()})
    assert response.status_code == 200 and b"at most 32 are allowed" in response.content


def test_the_segment_form_refuses_deep_custom_property_types(bob, retail):
    data = {"app": retail.pk, "name": "deep", "definition": "exists(locale)"}
    client = logged_in(bob)
    response = client.post("/segments/segment/add/", {**data, "custom_property_types": "[" * 5000})
    assert response.status_code == 200 and b"at most 32 are allowed" in response.content
    assert not Segment.objects.exists()


def test_a_dashboard_post_over_djangos_limit_is_400_not_500(bob, retail):
    client = Client(raise_request_exception=False)
    client.force_login(bob)
    big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post("/campaigns/notification/add/", {**form_data(retail), "name": big})
    assert response.status_code == 400


# Cursors, channel URIs, composer URLs and dates


def cursor_of(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    ["cD1h", "%FF", cursor_of("p=99999999999999999999"), cursor_of("o=x"), "٤٤٣"],
)
def test_a_malformed_cursor_is_a_400_naming_cursor(retail, retail_token, cursor):
    url = f"/api/v1/apps/{retail.application_id}/devices"
    response = api(retail_token).get(url, {"cursor": cursor})
    assert error_of(response, 400)["field"] == "cursor"


def test_the_next_cursor_still_pages(retail, retail_token):
    for n in range(3):
        register_device(retail, uuid.UUID(int=n + 1), {"platform": "ios", "push_token": "ab" * 32})
    first = api(retail_token).get(f"/api/v1/apps/{retail.application_id}/devices?limit=2").json()
    second = api(retail_token).get(first["next"]).json()
    assert len(first["results"]) == 2 and len(second["results"]) == 1


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("https://[db5.notify.windows.com]/?token=a", "not a well-formed URL"),
        ("https://[::1]/?token=a", "by a DNS name, not an IP address"),
        ("https://[::1/?token=a", "not a well-formed URL"),
        ("https://db5.notify.windows.com:٤٤٣/?token=a", "must be ASCII"),
        ("https://db5.notify.windows.com:99999/?token=a", "a number from 1 to 65535"),
        ("https://db5.notify.windows.com:44x/?token=a", "a number from 1 to 65535"),
        ("https://db5.notify.windöws.com/?token=a", "must be ASCII"),
        ("https://db5.notify.windows.com.evil.example/?token=a", "must be on a WNS host"),
    ],
)
def test_a_malformed_channel_uri_is_a_field_error_at_both_doors(news, news_token, uri, words):
    install = f"/api/v1/apps/{news.application_id}/devices/{INSTALL}"
    response = api(news_token).put(
        install, {"platform": "windows", "channel_uri": uri}, format="json"
    )
    error = error_of(response, 400)
    assert error["field"] == "channel_uri" and words in error["message"]
    d365 = (
        f"/api/v1.0/orgs/{news.organization.organization_id}/pushchannel/apps/"
        f"{news.application_id}/devices/crm-1"
    )
    response = api(news_token).post(d365, {"WnsDeviceContract": {"ChannelUri": uri}}, format="json")
    error = error_of(response, 400)
    assert error["field"] == "WnsDeviceContract.ChannelUri" and words in error["message"]
    assert not Device.objects.exists()


def test_an_ascii_port_443_is_still_accepted(news, news_token):
    uri = "https://db5.notify.windows.com:443/?token=a"
    install = f"/api/v1/apps/{news.application_id}/devices/{INSTALL}"
    body = {"platform": "windows", "channel_uri": uri}
    assert api(news_token).put(install, body, format="json").status_code == 201


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://[x]/", "not a well-formed URL"),
        ("https://[::1/", "not a well-formed URL"),
        ("https://example.com:٤٤٣/", "a port that is not a number"),
        ("https://example.com:99999/", "a port that is not a number"),
        ("https://exa_mple!.com/", "not a domain name"),
        ("https://exämple.com/", "its ASCII form"),
    ],
)
@pytest.mark.parametrize("field", ["url", "image_url"])
def test_a_malformed_composer_url_is_a_field_error(bob, retail, url, words, field):
    data = form_data(retail, on_click="url", url="https://example.com/")
    data[field] = url
    response = schedule(logged_in(bob), data)
    assert response.status_code == 200
    assert words in " ".join(errors(response)[field])
    assert not Notification.objects.exists()


def test_a_bracketed_ipv6_composer_url_is_accepted(bob, retail):
    data = form_data(retail, on_click="url", url="https://[2001:db8::1]:8443/sale")
    assert schedule(logged_in(bob), data).status_code == 302


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"schedule_kind": "local", "local_send_at": "9999-12-31T23:00"}, "local_send_at"),
        ({"schedule_kind": "at", "send_at": "9999-12-31T23:00"}, "send_at"),
        ({"never_expires": "", "expires_at": "9999-12-31T23:00"}, "expires_at"),
        (
            {"schedule_kind": "local", "local_send_at": "0001-01-01T05:00", "never_expires": ""}
            | {"expires_at": "2099-01-01T00:00"},
            "local_send_at",
        ),
    ],
)
def test_a_schedule_at_the_end_of_time_is_a_field_error_at_the_composer(bob, retail, fields, field):
    response = schedule(logged_in(bob), form_data(retail, **fields))
    assert response.status_code == 200
    assert "Choose a date from the year 2000 to 9998." in errors(response)[field]
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [
        {"send_time": "9999-12-31T23:59:59Z"},
        {"send_time": "9999-12-31T23:00:00-05:00"},
        {"send_time": "2099-01-01T00:00:00Z", "expires_at": "9999-12-31T23:59:59+14:00"},
        {"send_time": "0001-01-01T00:00:00+01:00"},
    ],
)
def test_a_push_api_time_at_the_end_of_time_is_a_field_error(retail, retail_token, extra):
    url = f"/api/v0.1/apps/{retail.organization.name}/{retail.name}/push/notifications"
    body = {"notification_content": {"name": "x", "title": "t", "body": "b"}, **extra}
    error = error_of(api(retail_token).post(url, body, format="json"), 400)
    assert error["field"] in extra
    assert not Notification.objects.exists()


# The sweep: every API pattern, every method, hostile bodies and query strings


def api_patterns(
    patterns: list | None = None, prefix: str = ""
) -> list[tuple[str, list[str], list[str]]]:
    """List (name, path parameters, methods) of every URL pattern named api-*."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            found += api_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and (entry.name or "").startswith("api-"):
            view = entry.callback.view_class()
            parameters = list(entry.pattern.converters)
            found.append((entry.name, parameters, view.allowed_methods))
    return found


PATTERNS = api_patterns()
BODIES = [
    (DEEP, "application/json"),
    (b'{"name": "' + b"x" * 3_000_000 + b'"}', "application/json"),
    (b" " * (settings.API_MAX_BODY_BYTES + 1), "application/json"),
    (b'{"name": "\xff\xfe"}', "application/json"),
    ('{"name": "x"}'.encode("utf-16"), "application/json; charset=utf-16"),
    (b'{"name": "x"}', "text/plain"),
    (b"name=x&ApiToken=y", "application/x-www-form-urlencoded"),
    (b"", "application/json"),
    (b"null", "application/json"),
    (b"[]", "application/json"),
    (b'"a string"', "application/json"),
    (b'{"name": 1e400, "limit": 123456789012345678901234567890}', "application/json"),
    (b"9" * 5000, "application/json"),
    (b'{"name": "a\\u0000b", "ApiToken": "\\u0000"}', "application/json"),
    (b'{"name": "\\ud800", "user_ids": ["\\udc00"]}', "application/json"),
    (b'{"ApiToken": ["not", "a", "string"]}', "application/json"),
]
QUERIES = [
    "cursor=cD1h",
    "cursor=%FF%FE",
    "limit=99999999999999999999",
    "limit=-1",
    "limit=%D9%A4",
    "%24top=1e9",
    "%24skiptoken=99999999999999999999999",
    "%24skiptoken=-1",
    "since=9999-99-99&until=0000-00-00T25:00",
    "platform=%00&user_id=a%00b&locale=%00&app_version=%ED%A0%80",
    "status=%ED%A0%80",
    "push_enabled=maybe",
    "limit=1&limit=2",
    "format=xml",
    "x=" + "b" * 10_000,
]
VALUES = {"owner_name": "contoso", "app_name": "retail", "user_id": "crm-42"}
VALUES |= {"install_id": INSTALL, "notification_id": "1", "audience_name": "everyone"}
VALUES |= {"endpoint_id": "1", "journey_id": "1"}


def path_values(names: list[str], app) -> dict[str, str]:
    ids = {"app_id": str(app.application_id), "org_id": str(app.organization.organization_id)}
    missing = set(names) - set(VALUES) - set(ids)
    assert not missing, f"give the sweep a value for {missing}"
    return {name: {**VALUES, **ids}[name] for name in names}


def problem(response, method: str, what: str) -> str | None:
    """Describe what is wrong with an answer to hostile input, or None when it is sound."""
    status = response.status_code
    if status >= 500:
        return f"{method} {what}: {status}"
    if status >= 400:
        if response.get("Content-Type") != "application/json":
            return f"{method} {what}: {status} {response.get('Content-Type')}"
        error = response.json().get("error")
        if not isinstance(error, dict) or set(error) != {"code", "message", "field"}:
            return f"{method} {what}: {status} not the error shape: {response.content[:200]}"
    return None


@pytest.fixture
def device(retail) -> Device:
    return register_device(retail, uuid.UUID(INSTALL), {**SEED_BODY, "push_token": "ab" * 32})[0]


@pytest.mark.parametrize(("name", "parameters", "methods"), PATTERNS, ids=[p[0] for p in PATTERNS])
def test_no_hostile_body_or_query_gives_a_500_or_html(
    settings, sandbox, retail, retail_token, device, name, parameters, methods
):
    settings.DEBUG = True  # Django's own refusals are HTML pages with DEBUG on: none may show.
    url = reverse(name, kwargs=path_values(parameters, retail))
    clients = {"with a server token": APIClient(), "without a token": APIClient()}
    clients["with a server token"].credentials(HTTP_X_API_TOKEN=retail_token)
    found = []
    for who, client in clients.items():
        client.raise_request_exception = False
        for method in set(methods) - {"HEAD"}:
            # Query strings are read by the lists; with a token, a POST would do its work each time.
            queried = method in ("GET", "OPTIONS") or who == "without a token"
            for query in QUERIES if queried else ():
                response = client.generic(method, f"{url}?{query}")
                found.append(problem(response, method, f"?{query[:40]} {who}"))
            if method in ("GET", "OPTIONS"):
                continue
            for body, content_type in BODIES:
                response = client.generic(method, url, body, content_type=content_type)
                found.append(problem(response, method, f"{body[:20]!r} {content_type} {who}"))
    wrong = [f for f in found if f]
    assert not wrong, "\n".join(wrong)


def test_the_sweep_covers_every_api_door():
    names = {name for name, _, _ in PATTERNS}
    assert {"api-devices", "api-events", "api-push-notifications", "api-d365-device"} <= names
    assert len(names) >= 15

"""The API as an attacker sees it: cases generated from the URL configuration, failed
authentications limited per address, tracking ids that cannot be guessed, Segment replays.

Every named `api-` route is walked with every method its view allows, so a new endpoint is
checked without anyone adding it here: a client key is refused unless the view lists the method
in `client_key_methods`, and a token of one app asking for another app's path gets 404.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass

import pytest
from django.core.cache import caches as cache_handler
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from campaigns import launches, tasks
from campaigns.launches import tracking_id
from campaigns.models import Delivery, DeliveryStatus, Notification, Status
from devices.authentication import ApiTokenAuthentication, HasAppToken, client_key_allowed
from devices.models import ApiToken, Device, MobileApp
from devices.registration import register_device
from devices.services import revoke_api_tokens
from events.models import Event
from journeys.models import Journey, Trigger
from segments.models import Segment
from tests.test_launches_api import delivery_of
from tests.test_segment_com_webhook import SECRET, TRACK, deliver, set_secret
from webhooks import services as webhook_services

pytest_plugins = ["tests.sandbox"]

# Doors that take no API token, each for its reason; a new one must be added here knowingly.
PUBLIC_ROUTES = {
    "api-schema": "the OpenAPI schema describes endpoints, no app's data",
    "api-docs": "the browsable docs of that schema",
    "api-segment-com": "Segment.com signs each call with the app's shared secret instead",
}


@dataclass(frozen=True)
class Route:
    name: str
    view: type
    parameters: tuple[str, ...]
    initkwargs: dict

    def instance(self) -> object:
        return self.view(**self.initkwargs)

    @property
    def methods(self) -> list[str]:
        return [method for method in self.instance().allowed_methods if method != "OPTIONS"]

    @property
    def takes_tokens(self) -> bool:
        view = self.instance()
        return any(isinstance(a, ApiTokenAuthentication) for a in view.get_authenticators())


def api_routes(patterns: list | None = None) -> list[Route]:
    """Every named api- route of the project's URL configuration."""
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            found += api_routes(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and (pattern.name or "").startswith("api-"):
            view = pattern.callback.cls
            parameters = tuple(getattr(pattern.pattern, "converters", {}))
            initkwargs = getattr(pattern.callback, "initkwargs", {})
            found.append(Route(pattern.name, view, parameters, initkwargs))
    return found


ROUTES = api_routes()
TOKEN_ROUTES = [route for route in ROUTES if route.name not in PUBLIC_ROUTES]
CASES = [(route, method) for route in TOKEN_ROUTES for method in route.methods]


def case_id(case: object) -> str:
    return case.name if isinstance(case, Route) else str(case)


def path_of(route: Route, app: MobileApp, objects: dict[str, str]) -> str:
    """The route's path for one app, naming that app's own device, audience and notification."""
    values = {
        "app_id": str(app.application_id),
        "org_id": str(app.organization.organization_id),
        "owner_name": app.organization.name,
        "app_name": app.name,
        "user_id": "ada",
        **objects,
    }
    return reverse(route.name, kwargs={name: values[name] for name in route.parameters})


def own_objects(app: MobileApp) -> dict[str, str]:
    """A device, an audience, a notification, a journey and a webhook endpoint of the app, for
    paths that name one."""
    platform = "windows" if app.platforms() == ["windows"] else "ios"
    address = (
        {"channel_uri": "https://db5.notify.windows.com/?token=AwYAAAB"}
        if platform == "windows"
        else {"push_token": "ab" * 32}
    )
    device, _ = register_device(app, uuid.uuid4(), {"platform": platform, **address})
    segment = Segment.objects.create(app=app, name="everyone", definition="exists(locale)")
    notification = Notification.objects.create(
        app=app, name="Sale", platforms=[platform], status=Status.COMPLETED, title_en="Sale"
    )
    endpoint, _ = webhook_services.create_endpoint(app, "https://93.184.215.14/hooks", ["sent"])
    journey = Journey.objects.create(app=app, name="Welcome", trigger=Trigger.FIRST_REGISTRATION)
    return {
        "journey_id": str(journey.pk),
        "install_id": str(device.install_id),
        "audience_name": segment.name,
        "notification_id": str(notification.pk),
        "endpoint_id": str(endpoint.pk),
    }


def call(token: str, method: str, path: str):
    return APIClient().generic(
        method, path, b"{}", content_type="application/json", HTTP_X_API_TOKEN=token
    )


def error_code(response) -> str | None:
    """The code of an error answer; None for a success or an empty answer."""
    body = response.json() if response.content else {}
    return body.get("error", {}).get("code") if isinstance(body, dict) else None


def stored() -> dict[str, object]:
    """What a refused request must leave as it was."""
    return {
        "devices": list(Device.objects.order_by("pk").values()),
        "segments": list(Segment.objects.order_by("pk").values()),
        "notifications": Notification.objects.count(),
        "events": Event.objects.count(),
        "launched": Delivery.objects.filter(launched_at__isnull=False).count(),
    }


def test_the_walk_finds_the_api():
    names = {route.name for route in ROUTES}
    assert {"api-device", "api-launches", "api-audience", "api-push-notifications"} <= names
    assert len(CASES) >= 15


def test_every_door_without_a_token_is_known():
    doors = {route.name for route in ROUTES if not route.takes_tokens}
    assert doors == set(PUBLIC_ROUTES)


def test_a_client_key_opens_only_the_doors_of_its_own_device_and_launches():
    opened = {
        (route.name, method)
        for route, method in CASES
        if client_key_allowed(route.instance(), method)
    }
    assert opened == {
        ("api-device", "PUT"),
        ("api-device", "PATCH"),
        ("api-device", "DELETE"),
        ("api-device-user", "PUT"),
        ("api-d365-device", "POST"),
        ("api-launches", "POST"),
    }


@pytest.mark.parametrize("route", TOKEN_ROUTES, ids=case_id)
def test_every_token_door_requires_an_app_token(route):
    assert route.takes_tokens
    assert any(isinstance(p, HasAppToken) for p in route.instance().get_permissions())


@pytest.mark.parametrize(("route", "method"), CASES, ids=case_id)
def test_a_client_key_is_refused_unless_the_view_allows_it(
    route, method, retail, news, retail_client_key
):
    mine = path_of(route, retail, own_objects(retail))
    before = stored()
    response = call(retail_client_key, method, mine)
    code = error_code(response)
    if client_key_allowed(route.instance(), method):
        assert code != "server_token_required", response.content
        theirs = path_of(route, news, own_objects(news))
        assert call(retail_client_key, method, theirs).status_code == 404
    else:
        assert response.status_code == 403, response.content
        assert code == "server_token_required"
        assert stored() == before


@pytest.mark.parametrize(("route", "method"), CASES, ids=case_id)
def test_a_server_token_asking_for_another_apps_path_is_not_found(
    route, method, retail, news, retail_token
):
    own_objects(retail)
    theirs = path_of(route, news, own_objects(news))
    before = stored()
    response = call(retail_token, method, theirs)
    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "not_found"
    assert stored() == before


# Failed authentications


@override_settings(FAILED_AUTH_RATE=(3, 60))
def test_unknown_tokens_are_limited_per_address(retail, retail_token):
    url = f"/api/v1/apps/{retail.application_id}"

    def get(token: str, address: str = "203.0.113.5"):
        return APIClient(REMOTE_ADDR=address).get(url, HTTP_X_API_TOKEN=token)

    assert [get(f"pc_guess{n}").status_code for n in range(3)] == [401, 401, 401]
    refused = get("pc_guess4")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert "Too many unknown or revoked API tokens" in refused.json()["error"]["message"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    # The address is refused before any token is looked up, a right one included.
    assert get(retail_token).status_code == 429
    assert get("pc_guess5", "203.0.113.6").status_code == 401
    assert get(retail_token, "203.0.113.6").status_code == 200


@override_settings(FAILED_AUTH_RATE=(2, 60))
def test_revoked_tokens_count_as_failures_and_good_ones_do_not(retail, retail_token, news_token):
    url = f"/api/v1/apps/{retail.application_id}"
    client = APIClient(REMOTE_ADDR="203.0.113.9")
    assert [client.get(url, HTTP_X_API_TOKEN=retail_token).status_code for _ in range(5)] == [
        200
    ] * 5
    revoke_api_tokens(ApiToken.objects.filter(app=retail))
    assert [client.get(url, HTTP_X_API_TOKEN=retail_token).status_code for _ in range(3)] == [
        401,
        401,
        429,
    ]


@pytest.mark.skipif(
    not os.environ.get("PUSHCENTER_CACHE_URL", "").startswith("redis"),
    reason="needs PUSHCENTER_CACHE_URL naming a Redis server",
)
def test_two_cache_clients_count_on_one_counter(retail, retail_token):
    """Two processes hold two Redis clients; here two cache aliases stand for them."""
    location = os.environ["PUSHCENTER_CACHE_URL"]
    redis = "django.core.cache.backends.redis.RedisCache"
    caches = {
        "default": {"BACKEND": redis, "LOCATION": location},
        "first": {"BACKEND": redis, "LOCATION": location},
        "second": {"BACKEND": redis, "LOCATION": location},
    }
    url = f"/api/v1/apps/{retail.application_id}"
    with override_settings(CACHES=caches, API_RATE=(2, 60)):
        assert cache_handler["first"] is not cache_handler["second"]
        with override_settings(API_RATE_CACHE="first"):
            answers = [APIClient().get(url, HTTP_X_API_TOKEN=retail_token) for _ in range(2)]
        with override_settings(API_RATE_CACHE="second"):
            answers.append(APIClient().get(url, HTTP_X_API_TOKEN=retail_token))
    assert [answer.status_code for answer in answers] == [200, 200, 429]


# Tracking ids


@override_settings(CLIENT_ADDRESS_RATE=(10_000, 60))
def test_guessed_tracking_ids_mark_nothing(retail, retail_client_key):
    deliveries = [delivery_of(retail) for _ in range(7)]
    pks = [delivery.pk for delivery in deliveries]
    near = range(max(1, min(pks) - 60), max(pks) + 140)
    # The old form (the id in hex), and the new form with forged signatures, around real ids.
    guesses = [f"{pk:x}" for pk in near][:133]
    guesses += [f"{pk:x}" + "A" * 16 for pk in near][:133]
    guesses += [f"{pk:x}" + uuid.uuid4().hex[:16] for pk in near][:133]
    assert len(guesses) == 399
    client = APIClient(REMOTE_ADDR="198.51.100.20")
    client.credentials(HTTP_X_API_TOKEN=retail_client_key)
    url = f"/api/v1/apps/{retail.application_id}/launches"

    answers = {client.post(url, {"tracking_id": g}, format="json").status_code for g in guesses}

    assert answers == {400, 404}
    assert not Delivery.objects.filter(launched_at__isnull=False).exists()
    right = client.post(url, {"tracking_id": tracking_id(pks[0])}, format="json")
    assert right.status_code == 201


def test_a_tracking_id_moved_to_another_delivery_is_unknown(retail, retail_token):
    first, second = delivery_of(retail), delivery_of(retail)
    signature = tracking_id(first.pk)[len(f"{first.pk:x}") :]
    moved = f"{second.pk:x}" + signature
    client = APIClient()
    client.credentials(HTTP_X_API_TOKEN=retail_token)

    response = client.post(
        f"/api/v1/apps/{retail.application_id}/launches", {"tracking_id": moved}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["error"]["field"] == "tracking_id"
    assert not Delivery.objects.filter(launched_at__isnull=False).exists()


def test_an_id_signed_before_the_secret_rotated_still_counts(retail, retail_token, settings):
    delivery = delivery_of(retail, DeliveryStatus.SENT)
    old = tracking_id(delivery.pk)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-of-at-least-thirty-two-characters"
    assert tracking_id(delivery.pk) != old
    client = APIClient()
    client.credentials(HTTP_X_API_TOKEN=retail_token)
    url = f"/api/v1/apps/{retail.application_id}/launches"
    assert client.post(url, {"tracking_id": old}, format="json").status_code == 201


def test_a_sent_payload_carries_the_signed_id_and_the_app_reports_it(
    retail, retail_token, retail_client_key, sandbox
):
    register_device(retail, uuid.uuid4(), {"platform": "ios", "push_token": "ab" * 32})
    server = APIClient()
    server.credentials(HTTP_X_API_TOKEN=retail_token)
    url = f"/api/v0.1/apps/{retail.organization.name}/{retail.name}/push/notifications"
    body = {"notification_content": {"name": "Sale", "title": "Half price", "body": "Today."}}
    assert server.post(url, body, format="json").status_code == 202
    notification = Notification.objects.get()
    tasks.start_send.apply(args=[notification.pk])
    tasks.send_deliveries.apply(args=[notification.pk])

    [line] = sandbox.received("apns")
    carried = line["payload"]["tracking_id"]
    assert carried == tracking_id(Delivery.objects.get().pk)
    assert len(carried) <= launches.MAX_LENGTH
    app = APIClient()
    app.credentials(HTTP_X_API_TOKEN=retail_client_key)
    launches_url = f"/api/v1/apps/{retail.application_id}/launches"
    assert app.post(launches_url, {"tracking_id": carried}, format="json").status_code == 201


# Segment.com replays


@pytest.fixture
def segment_com_app(retail) -> MobileApp:
    set_secret(retail, SECRET)
    register_device(
        retail, uuid.uuid4(), {"platform": "ios", "push_token": "ab" * 32, "user_id": "ada"}
    )
    return retail


def test_a_replayed_message_is_acknowledged_and_recorded_once(segment_com_app):
    call = {**TRACK, "messageId": "ajs-next-1700000000000-7b2c"}

    first = deliver(segment_com_app, call)
    again = deliver(segment_com_app, call)

    assert first.status_code == 200 and first.json()["devices"] == 1
    assert again.status_code == 200
    assert again.json() == {"type": "track", "replayed": call["messageId"]}
    assert Event.objects.count() == 1
    assert deliver(segment_com_app, {**call, "messageId": "ajs-other"}).status_code == 200
    assert Event.objects.count() == 2


def test_a_message_refused_once_is_taken_when_sent_right(segment_com_app):
    call = {**TRACK, "messageId": "ajs-retry-1"}
    assert deliver(segment_com_app, {**call, "timestamp": "yesterday"}).status_code == 400
    assert deliver(segment_com_app, call).json()["devices"] == 1
    assert Event.objects.count() == 1


def test_the_same_message_id_in_another_app_is_its_own(segment_com_app, news):
    set_secret(news, SECRET)
    register_device(
        news,
        uuid.uuid4(),
        {
            "platform": "windows",
            "channel_uri": "https://db5.notify.windows.com/?token=AwYAAAB",
            "user_id": "ada",
        },
    )
    call = {**TRACK, "messageId": "shared-id"}
    assert deliver(segment_com_app, call).json()["devices"] == 1
    assert deliver(news, call).json()["devices"] == 1
    assert Event.objects.count() == 2


@pytest.mark.parametrize("message_id", [42, "", "x" * 201])
def test_a_message_id_that_is_not_one_is_refused_by_name(segment_com_app, message_id):
    response = deliver(segment_com_app, {**TRACK, "messageId": message_id})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "messageId"
    assert not Event.objects.exists()


def test_a_replay_needs_the_signature_too(segment_com_app):
    body = json.dumps({**TRACK, "messageId": "m-1"}).encode()
    response = Client().post(
        f"/api/v1/apps/{segment_com_app.application_id}/segment",
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE="0" * 40,
    )
    assert response.status_code == 401
    assert deliver(segment_com_app, {**TRACK, "messageId": "m-1"}).json()["devices"] == 1

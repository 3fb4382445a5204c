"""The APNs client, over real HTTP/2 and TLS against the sandbox gateway (tests/sandbox.py).

Device tokens name the sandbox's injected faults by their first hex digits: ``dead`` 410
Unregistered, ``bad0`` 400 BadDeviceToken, ``f00d`` 429, ``fa11`` 503, ``c0de`` 500 twice then
200, ``5105`` 200 after two seconds. Provider tokens never reach received.jsonl (it keeps only
"Bearer …"), so the tokens a test made are counted where the gateway saw them
(``tokens_seen``). Time rules move the clocks the token cache and the gateway read (``clock``).
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from devices import sample_credentials
from devices.models import ApnsCredential, MobileApp
from devices.providers import apns
from devices.providers.apns import ApnsClient, classify
from devices.providers.base import Outcome, ProviderError, Push
from devices.providers.transport import Response, Transport
from tests.h2_server import Authority, H2Server
from tests.waiting import wait_for

pytest_plugins = ["tests.sandbox"]

TOPIC = "com.contoso.retail"
ALERT = {"aps": {"alert": {"title": "Sale", "body": "Half price today"}}, "tracking_id": "t-1"}
RENDERED = {"apns-push-type": "alert", "apns-priority": "10", "apns-expiration": "0"}
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def device(prefix: str = "ab", n: int = 0) -> str:
    """Return a well-formed 64-hex-digit device token starting with `prefix`."""
    tail = f"{n:08x}"
    return prefix + "0" * (64 - len(prefix) - len(tail)) + tail


def alert(target: str, key: str | None = None, body: object = ALERT, **headers: str) -> Push:
    return Push(
        key=key or str(uuid.uuid4()),
        target=target,
        body=json.dumps(body).encode(),
        headers={**RENDERED, **headers},
    )


def provider_tokens_seen(sandbox) -> list[str]:
    """Return the provider tokens whose signature the gateway verified during this test."""
    return list(sandbox.gateways.apns._verified)


def tokens_seen(sandbox, credential: ApnsCredential) -> int:
    """Return how many distinct provider tokens the gateway saw for the credential's key."""
    return sandbox.gateways.apns.tokens_seen(credential.team_id, credential.key_id)


def replaceable_at(result) -> datetime:
    """Return the time a refused result says its provider token may be replaced."""
    found = re.fullmatch(
        r"the provider token cannot be replaced before (\S+) "
        r"\(Apple allows one new token per 20 minutes\)",
        result.detail,
    )
    assert found, result.detail
    return datetime.fromisoformat(found[1])


@pytest.fixture
def client(sandbox, retail):
    apns_client = ApnsClient(retail.apns_credential.for_client())
    yield apns_client
    apns_client.close()


class Clock:
    """The clocks the APNs module and the gateway read, moved on together by `later`.

    `behind` sets only the host's wall clock back (a slow host clock: Apple finds its tokens
    stale); Apple's clock is the gateway's.
    """

    def __init__(self) -> None:
        self.behind = 0.0
        self.later = 0.0

    def time(self) -> float:
        return time.time() - self.behind + self.later

    def monotonic(self) -> float:
        return time.monotonic() + self.later

    def apple(self) -> float:
        return time.time() + self.later


@pytest.fixture
def clock(monkeypatch, sandbox) -> Clock:
    fake = Clock()
    monkeypatch.setattr(apns, "time", fake)
    monkeypatch.setattr(sandbox.gateways.apns, "clock", fake.apple)
    return fake


@pytest.fixture
def kiosk(organization) -> MobileApp:
    """An app whose APNs credential authenticates with a .p12 certificate."""
    app = MobileApp.objects.create(organization=organization, name="kiosk", display_name="Kiosk")
    credential = ApnsCredential(
        app=app, auth_method=ApnsCredential.AuthMethod.CERTIFICATE, bundle_id="com.contoso.kiosk"
    )
    p12 = sample_credentials.p12_certificate("com.contoso.kiosk", "pass")
    credential.store_secret({"certificate_p12": p12.hex(), "certificate_password": "pass"})
    credential.save()
    return app


# Delivery ----------------------------------------------------------------------------------


def test_it_delivers_with_the_apps_topic_the_renderers_headers_and_the_key_as_apns_id(
    sandbox, client
):
    key = str(uuid.uuid4())
    push = alert(device(), key, **{"apns-collapse-id": "sale-42"})

    [result] = client.send([push])

    assert (result.key, result.outcome, result.status) == (key, Outcome.SENT, 200)
    assert result.provider_id.lower() == key
    [line] = sandbox.received("apns")
    assert line["target"] == device()
    assert line["payload"] == ALERT
    assert line["headers"]["apns-topic"] == TOPIC
    assert line["headers"]["apns-push-type"] == "alert"
    assert line["headers"]["apns-priority"] == "10"
    assert line["headers"]["apns-expiration"] == "0"
    assert line["headers"]["apns-collapse-id"] == "sale-42"
    assert line["headers"]["apns-id"] == key
    assert line["headers"]["authorization"] == "Bearer …"


def test_it_lets_apple_choose_the_apns_id_when_the_key_is_not_a_uuid(sandbox, client):
    [result] = client.send([alert(device(), key="delivery-7")])

    assert (result.key, result.outcome) == ("delivery-7", Outcome.SENT)
    assert UUID_RE.fullmatch(result.provider_id)
    [line] = sandbox.received("apns")
    assert "apns-id" not in line["headers"]


def test_it_keeps_the_topic_and_authorization_its_own(sandbox, client):
    push = alert(device(), **{"apns-topic": "com.example.other", "authorization": "bearer x"})

    [result] = client.send([push])

    assert result.outcome == Outcome.SENT
    assert sandbox.received("apns")[0]["headers"]["apns-topic"] == TOPIC


def test_it_signs_an_es256_provider_token_with_kid_and_iss(sandbox, retail, client):
    client.send([alert(device())])

    [token] = provider_tokens_seen(sandbox)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (header["alg"], header["kid"]) == ("ES256", "ABCDE12345")
    assert claims["iss"] == "TEAM123456"
    assert abs(claims["iat"] - time.time()) < 60


def test_it_answers_an_empty_batch_without_a_request(sandbox, client):
    assert client.send([]) == []
    assert sandbox.received() == []


def test_it_sends_hundreds_of_pushes_in_one_call_and_answers_each(sandbox, client):
    pushes = [alert(device("ab", n)) for n in range(600)]

    results = client.send(pushes)

    assert [result.key for result in results] == [push.key for push in pushes]
    assert {result.outcome for result in results} == {Outcome.SENT}
    assert len({result.provider_id for result in results}) == 600
    lines = sandbox.received("apns")
    assert len(lines) == 600
    assert {line["status"] for line in lines} == {200}
    assert len(provider_tokens_seen(sandbox)) == 1


def test_it_sends_to_the_development_host_for_a_sandbox_credential(sandbox, retail, settings):
    credential = retail.apns_credential
    credential.environment = ApnsCredential.Environment.SANDBOX
    settings.APNS_PRODUCTION_URL = "https://localhost:9"  # nothing listens there

    with closing(ApnsClient(credential.for_client())) as client:
        [result] = client.send([alert(device())])

    assert result.outcome == Outcome.SENT


def test_it_sends_to_the_production_host_for_a_production_credential(sandbox, retail, settings):
    settings.APNS_DEVELOPMENT_URL = "https://localhost:9"

    with closing(ApnsClient(retail.apns_credential.for_client())) as client:
        [result] = client.send([alert(device())])

    assert result.outcome == Outcome.SENT


# Classification --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "outcome", "status", "reason"),
    [
        ("dead", Outcome.DEVICE_GONE, 410, "Unregistered"),
        ("bad0", Outcome.DEVICE_GONE, 400, "BadDeviceToken"),
        ("f00d", Outcome.DEVICE_RETRY, 429, "TooManyRequests"),
        ("fa11", Outcome.RETRY, 503, "ServiceUnavailable"),
        ("c0de", Outcome.RETRY, 500, "InternalServerError"),
    ],
)
def test_it_classifies_the_answer_a_device_token_gets(
    sandbox, client, prefix, outcome, status, reason
):
    [result] = client.send([alert(device(prefix))])

    assert (result.outcome, result.status, result.reason) == (outcome, status, reason)
    assert UUID_RE.fullmatch(result.provider_id)
    assert [line["status"] for line in sandbox.received("apns")] == [status]  # never retried here


def test_it_retires_a_device_on_410_and_says_since_when(client):
    [result] = client.send([alert(device("dead"))])

    assert result.outcome == Outcome.DEVICE_GONE
    since = re.search(r"since (\S+)", result.detail)[1]
    assert abs((datetime.now(UTC) - datetime.fromisoformat(since)).total_seconds()) < 60


def test_it_answers_each_push_of_a_mixed_batch_in_order(sandbox, client):
    pushes = [alert(device(prefix)) for prefix in ("ab", "dead", "f00d", "cd", "bad0")]

    results = client.send(pushes)

    assert [(result.key, result.outcome) for result in results] == [
        (pushes[0].key, Outcome.SENT),
        (pushes[1].key, Outcome.DEVICE_GONE),
        (pushes[2].key, Outcome.DEVICE_RETRY),
        (pushes[3].key, Outcome.SENT),
        (pushes[4].key, Outcome.DEVICE_GONE),
    ]


def test_it_fails_the_message_apple_finds_too_large(client):
    [result] = client.send([alert(device(), body={"aps": {}, "blob": "x" * 5000})])

    assert (result.outcome, result.status, result.reason) == (
        Outcome.MESSAGE_FAILED,
        413,
        "PayloadTooLarge",
    )


def test_it_fails_the_message_without_a_push_type(client):
    push = Push(key="k", target=device(), body=json.dumps(ALERT).encode(), headers={})

    [result] = client.send([push])

    assert (result.outcome, result.status, result.reason) == (
        Outcome.MESSAGE_FAILED,
        400,
        "InvalidPushType",
    )


def test_it_fails_the_message_when_the_topic_is_not_the_keys(sandbox, retail):
    credential = retail.apns_credential
    credential.bundle_id = "com.contoso.elsewhere"  # not what the gateway knows for this key

    with closing(ApnsClient(credential.for_client())) as client:
        [result] = client.send([alert(device())])

    assert (result.outcome, result.status, result.reason) == (
        Outcome.MESSAGE_FAILED,
        400,
        "TopicDisallowed",
    )
    assert sandbox.received("apns")[0]["headers"]["apns-topic"] == "com.contoso.elsewhere"


def _answer(status: int, reason: str | None = None, version: str = "2", **headers: str):
    body = json.dumps({"reason": reason}).encode() if reason else b""
    return Response("k", status, {"apns-id": "A-1", **headers}, body, http_version=version)


@pytest.mark.parametrize(
    ("status", "reason", "outcome"),
    [
        (410, "ExpiredToken", Outcome.DEVICE_GONE),
        (400, "DeviceTokenNotForTopic", Outcome.DEVICE_GONE),
        (400, "BadTopic", Outcome.MESSAGE_FAILED),
        (400, "MissingTopic", Outcome.MESSAGE_FAILED),
        (400, "BadCollapseId", Outcome.MESSAGE_FAILED),
        (400, "BadExpirationDate", Outcome.MESSAGE_FAILED),
        (400, "BadMessageId", Outcome.MESSAGE_FAILED),
        (400, "BadPriority", Outcome.MESSAGE_FAILED),
        (404, "BadPath", Outcome.MESSAGE_FAILED),
        (400, "PayloadEmpty", Outcome.MESSAGE_FAILED),
        (400, "DuplicateHeaders", Outcome.MESSAGE_FAILED),
        (405, "MethodNotAllowed", Outcome.MESSAGE_FAILED),
        (403, "BadCertificate", Outcome.AUTH_FAILED),
        (403, "BadCertificateEnvironment", Outcome.AUTH_FAILED),
        (403, "Forbidden", Outcome.AUTH_FAILED),
        (403, "MissingProviderToken", Outcome.AUTH_FAILED),
        (403, "ExpiredProviderToken", Outcome.AUTH_FAILED),
        (429, "TooManyProviderTokenUpdates", Outcome.RETRY),
        (400, "IdleTimeout", Outcome.RETRY),
        (503, "Shutdown", Outcome.RETRY),
        (410, "SomethingNew", Outcome.DEVICE_GONE),
        (403, "SomethingNew", Outcome.AUTH_FAILED),
        (502, None, Outcome.RETRY),
        (422, "SomethingNew", Outcome.MESSAGE_FAILED),
    ],
)
def test_it_classifies_apples_documented_reasons_and_unknown_ones_by_status(
    status, reason, outcome
):
    result = classify("k", _answer(status, reason))

    assert (result.outcome, result.status, result.reason) == (outcome, status, reason or "")
    assert result.provider_id == "A-1"


def test_it_honours_a_retry_after_when_one_comes():
    assert classify("k", _answer(429, "TooManyRequests", **{"retry-after": "30"})).retry_after == 30
    assert classify("k", _answer(400, "BadTopic", **{"retry-after": "30"})).retry_after is None


def test_it_trusts_no_answer_that_did_not_come_over_http2():
    result = classify("k", _answer(200, version="1.1"))

    assert (result.outcome, result.status) == (Outcome.RETRY, 200)
    assert "HTTP/1.1, not HTTP/2" in result.detail


# Provider tokens -------------------------------------------------------------------------------


def test_it_makes_one_provider_token_for_many_sends_and_clients(sandbox, retail, client):
    for n in range(3):
        client.send([alert(device("ab", n)), alert(device("cd", n))])
    with closing(ApnsClient(retail.apns_credential.for_client())) as other:
        other.send([alert(device("ef"))])

    assert [line["status"] for line in sandbox.received("apns")] == [200] * 7
    assert len(provider_tokens_seen(sandbox)) == 1


def test_it_makes_a_new_provider_token_after_50_minutes_not_before(sandbox, client, clock):
    client.send([alert(device())])
    clock.later = 49 * 60
    client.send([alert(device())])
    assert len(provider_tokens_seen(sandbox)) == 1

    clock.later = 51 * 60
    client.send([alert(device())])
    client.send([alert(device())])

    assert len(provider_tokens_seen(sandbox)) == 2
    assert [line["status"] for line in sandbox.received("apns")] == [200] * 4


def test_it_keeps_a_token_per_key(sandbox, retail, organization, client):
    other_app = MobileApp.objects.create(organization=organization, name="shop", display_name="S")
    other = ApnsCredential(
        app=other_app, key_id="FGHIJ67890", team_id="TEAM123456", bundle_id="com.contoso.shop"
    )
    other.store_secret({"signing_key": sample_credentials.p8_signing_key().decode()})
    other.save()

    client.send([alert(device())])
    with closing(ApnsClient(other.for_client())) as shop:
        [result] = shop.send([alert(device())])

    assert result.outcome == Outcome.SENT
    tokens = provider_tokens_seen(sandbox)
    assert sorted(jwt.get_unverified_header(token)["kid"] for token in tokens) == [
        "ABCDE12345",
        "FGHIJ67890",
    ]


def test_two_apps_with_one_key_share_one_provider_token(sandbox, retail, organization, client):
    # Apple counts token updates per key, not per app ("Establishing a token-based connection to
    # APNs": one token may serve all of a team's apps), so the second app must not make its own.
    shop = MobileApp.objects.create(organization=organization, name="shop", display_name="Shop")
    pem = retail.apns_credential.read_secret()["signing_key"]
    other = ApnsCredential(
        app=shop, key_id="ABCDE12345", team_id="TEAM123456", bundle_id="com.contoso.shop"
    )
    other.store_secret({"signing_key": pem.replace("\n", "\r\n")})  # same key, other layout
    other.save()

    [retail_result] = client.send([alert(device("ab"))])
    with closing(ApnsClient(other.for_client())) as shop_client:
        [shop_result] = shop_client.send([alert(device("cd"))])

    assert (retail_result.outcome, shop_result.outcome) == (Outcome.SENT, Outcome.SENT)
    assert [line["headers"]["apns-topic"] for line in sandbox.received("apns")] == [
        TOPIC,
        "com.contoso.shop",
    ]
    assert tokens_seen(sandbox, other) == 1


def test_the_token_cache_is_keyed_by_a_digest_never_the_key(retail):
    credential = retail.apns_credential
    pem = credential.read_secret()["signing_key"]
    public = (
        serialization.load_pem_private_key(pem.encode(), password=None)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    cache_key = apns._signer(credential.for_client()).cache_key

    assert cache_key == ("apns", "TEAM123456", "ABCDE12345", hashlib.sha256(public).hexdigest())


def test_threads_that_send_at_once_share_one_new_token(sandbox, retail):
    def send_one(n: int) -> Outcome:
        with closing(ApnsClient(retail.apns_credential.for_client())) as own:
            return own.send([alert(device("ab", n))])[0].outcome

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(send_one, range(4)))

    assert outcomes == [Outcome.SENT] * 4
    assert tokens_seen(sandbox, retail.apns_credential) == 1


def test_it_never_mints_twice_within_20_minutes_even_after_a_refusal(
    sandbox, retail, client, clock
):
    # "Establishing a token-based connection to APNs": a new token at most every 20 minutes,
    # else 429 TooManyProviderTokenUpdates; an iat over an hour old is ExpiredProviderToken.
    credential = retail.apns_credential
    clock.behind = 2 * 3600  # the host's clock is two hours slow: Apple finds the token stale
    [refused] = client.send([alert(device("ab", 1))])
    clock.behind = 0  # the clock is set right; the cached token is only minutes old to us

    assert (refused.outcome, refused.status, refused.reason) == (
        Outcome.AUTH_FAILED,
        403,
        "ExpiredProviderToken",
    )
    made_at = datetime.fromtimestamp(clock.time(), UTC) - timedelta(hours=2)
    assert abs(replaceable_at(refused) - (made_at + timedelta(minutes=20))) < timedelta(seconds=5)

    clock.later = 19 * 60
    still = client.send([alert(device("ab", 2)), alert(device("ab", 3))])
    assert [(result.outcome, result.reason) for result in still] == [
        (Outcome.AUTH_FAILED, "ExpiredProviderToken")
    ] * 2
    assert tokens_seen(sandbox, credential) == 1

    clock.later = 21 * 60
    pushes = [alert(device("ab", 4)), alert(device("ab", 5))]
    results = client.send(pushes)

    assert [(result.key, result.outcome) for result in results] == [
        (pushes[0].key, Outcome.SENT),
        (pushes[1].key, Outcome.SENT),
    ]
    answers = [(line["status"], line.get("reason")) for line in sandbox.received("apns")]
    expired = (403, "ExpiredProviderToken")
    # Each refused push went once with the stale token; after 20 minutes one new token
    # delivers the last two, and the gateway never answered TooManyProviderTokenUpdates.
    assert answers == [expired] * 5 + [(200, None)] * 2
    assert tokens_seen(sandbox, credential) == 2


def test_it_fails_auth_at_once_when_apple_refuses_a_young_token(sandbox, retail, client):
    sandbox.gateways.credentials.forget_registered()  # as if the key were revoked at Apple
    pushes = [alert(device("ab", n)) for n in range(3)]

    results = client.send(pushes)

    assert [(result.outcome, result.status, result.reason) for result in results] == [
        (Outcome.AUTH_FAILED, 403, "InvalidProviderToken")
    ] * 3
    assert "cannot be replaced before" in results[0].detail
    lines = sandbox.received("apns")
    assert len(lines) == 3  # each push sent once: a new token now would be one too many
    assert {(line["status"], line["reason"]) for line in lines} == {(403, "InvalidProviderToken")}
    assert tokens_seen(sandbox, retail.apns_credential) == 1


def test_it_replaces_a_refused_token_20_minutes_old_and_resends_once(
    sandbox, retail, client, clock, monkeypatch
):
    client.send([alert(device("ab", 1))])
    clock.later = 20 * 60
    # From now on Apple's clock runs two hours ahead of ours: it finds every token of ours stale.
    monkeypatch.setattr(sandbox.gateways.apns, "clock", lambda: clock.apple() + 2 * 3600)

    [result] = client.send([alert(device("ab", 2))])

    assert (result.outcome, result.reason) == (Outcome.AUTH_FAILED, "ExpiredProviderToken")
    statuses = [(line["status"], line.get("reason")) for line in sandbox.received("apns")]
    assert statuses == [(200, None)] + [(403, "ExpiredProviderToken")] * 2
    assert tokens_seen(sandbox, retail.apns_credential) == 2
    # The new token is the one that cannot be replaced yet.
    expected = datetime.fromtimestamp(clock.time(), UTC) + timedelta(minutes=20)
    assert abs(replaceable_at(result) - expected) < timedelta(seconds=5)


# What the sandbox holds clients to ------------------------------------------------------------


def _provider_token(credential: ApnsCredential) -> str:
    claims = {"iss": credential.team_id, "iat": int(time.time())}
    pem = credential.read_secret()["signing_key"]
    return jwt.encode(claims, pem, algorithm="ES256", headers={"kid": credential.key_id})


def _push_with(connection: httpx.Client, token: str) -> httpx.Response:
    headers = {"authorization": f"bearer {token}", "apns-topic": TOPIC, **RENDERED}
    return connection.post(f"/3/device/{device()}", json=ALERT, headers=headers)


def test_sandbox_answers_too_many_provider_token_updates(sandbox, retail, clock):
    # "Handling notification responses from APNs": 429 TooManyProviderTokenUpdates, "the
    # provider's authentication token is being updated too often"; Apple's engineers say a
    # connection that switches tokens too soon is refused, so the sandbox judges per connection.
    credential = retail.apns_credential
    first, second = _provider_token(credential), _provider_token(credential)
    assert first != second  # ES256 signatures differ each time, even within one second
    tls = ssl.create_default_context(cafile=sandbox.ca_bundle)
    with httpx.Client(http2=True, verify=tls, base_url=sandbox.apns_url) as connection:
        assert _push_with(connection, first).status_code == 200
        clock.later = 19 * 60
        too_soon = _push_with(connection, second)
        assert _push_with(connection, first).status_code == 200
        clock.later = 20 * 60
        assert _push_with(connection, second).status_code == 200

    assert (too_soon.status_code, too_soon.json()) == (
        429,
        {"reason": "TooManyProviderTokenUpdates"},
    )
    assert tokens_seen(sandbox, credential) == 2


@pytest.mark.parametrize(("age", "outcome"), [(3590, Outcome.SENT), (3601, None)])
def test_sandbox_expires_a_provider_token_an_hour_after_its_iat(
    sandbox, client, monkeypatch, age, outcome
):
    # "Establishing a token-based connection to APNs": a token whose iat is more than an hour
    # old is refused, ExpiredProviderToken. Apple's clock is set from when the token was made,
    # not from now, so a slow machine cannot age it: the token's iat lies between the two.
    made_after = time.time()
    client.send([alert(device())])
    made_before = time.time()
    apple_now = made_after + age if outcome else made_before + age
    monkeypatch.setattr(sandbox.gateways.apns, "clock", lambda: apple_now)

    [result] = client.send([alert(device())])

    if outcome is None:
        assert (result.outcome, result.status, result.reason) == (
            Outcome.AUTH_FAILED,
            403,
            "ExpiredProviderToken",
        )
    else:
        assert result.outcome == outcome


# A credential of the wrong environment or app -------------------------------------------------


def test_wrong_environment_answers_bad_device_token_for_every_token(sandbox, retail, kiosk):
    # "Handling notification responses from APNs": BadDeviceToken also means the token is not
    # for this environment (a development token sent to production, or the reverse).
    sandbox.wrong_environment(retail)
    pushes = [alert(device(prefix)) for prefix in ("ab", "dead", "f00d", "cd")]

    with closing(ApnsClient(retail.apns_credential.for_client())) as client:
        results = client.send(pushes)
    with closing(ApnsClient(kiosk.apns_credential.for_client())) as other:
        [elsewhere] = other.send([alert(device())])

    assert [(result.outcome, result.status, result.reason) for result in results] == [
        (Outcome.DEVICE_GONE, 400, "BadDeviceToken")
    ] * 4
    assert elsewhere.outcome == Outcome.SENT


def test_wrong_topic_answers_device_token_not_for_topic_for_every_token(sandbox, kiosk):
    sandbox.wrong_topic(kiosk.apns_credential)

    with closing(ApnsClient(kiosk.apns_credential.for_client())) as client:
        results = client.send([alert(device("ab", n)) for n in range(3)])

    assert [(result.outcome, result.status, result.reason) for result in results] == [
        (Outcome.DEVICE_GONE, 400, "DeviceTokenNotForTopic")
    ] * 3
    assert {line["reason"] for line in sandbox.received("apns")} == {"DeviceTokenNotForTopic"}


# Transport failures ----------------------------------------------------------------------------


def test_it_reports_a_timeout_as_retry_and_answers_the_others(sandbox, retail):
    with Transport(ca_bundle=sandbox.ca_bundle, timeout=0.5) as transport:
        client = ApnsClient(retail.apns_credential.for_client(), transport)
        slow, quick = client.send([alert(device("5105")), alert(device("ab"))])

    assert (slow.outcome, slow.status) == (Outcome.RETRY, 0)
    assert "timed out" in slow.detail
    assert quick.outcome == Outcome.SENT
    # The gateway still answers the abandoned request, 2 s on: let its line land in this test.
    wait_for(lambda: len(sandbox.received("apns")) == 2, 10, "the gateway answers the slow request")
    assert [line["status"] for line in sandbox.received("apns")] == [200, 200]


def test_it_reports_a_tls_failure_with_its_text(sandbox, client, settings, tmp_path):
    settings.CA_BUNDLE = Authority(tmp_path, "stranger").file  # does not trust the gateway

    [result] = client.send([alert(device())])

    assert (result.outcome, result.status) == (Outcome.RETRY, 0)
    assert "TLS handshake failed" in result.detail
    assert "certificate" in result.detail.lower()
    assert sandbox.received("apns") == []


def test_it_does_not_count_an_http11_answer_as_delivered(retail, settings, tmp_path):
    authority = Authority(tmp_path, "trusted")
    with H2Server(authority.issue_server(), alpn=("http/1.1",)) as server:
        settings.APNS_PRODUCTION_URL = server.origin
        settings.CA_BUNDLE = authority.file
        with closing(ApnsClient(retail.apns_credential.for_client())) as client:
            [result] = client.send([alert(device())])

    assert [seen.http_version for seen in server.seen] == ["1.1"]
    assert (result.outcome, result.status) == (Outcome.RETRY, 200)
    assert "not HTTP/2" in result.detail


# Certificate authentication --------------------------------------------------------------------


def test_it_authenticates_with_the_p12_certificate(sandbox, kiosk):
    with closing(ApnsClient(kiosk.apns_credential.for_client())) as client:
        [result] = client.send([alert(device())])

    assert (result.outcome, result.status) == (Outcome.SENT, 200)
    [line] = sandbox.received("apns")
    assert line["headers"]["apns-topic"] == "com.contoso.kiosk"
    assert "authorization" not in line["headers"]


def test_it_refuses_an_expired_certificate_before_sending(sandbox, organization):
    app = MobileApp.objects.create(organization=organization, name="old", display_name="Old")
    credential = ApnsCredential(
        app=app, auth_method=ApnsCredential.AuthMethod.CERTIFICATE, bundle_id="com.contoso.old"
    )
    p12 = sample_credentials.p12_certificate("com.contoso.old", "", days=-1)
    credential.store_secret({"certificate_p12": p12.hex(), "certificate_password": ""})

    with pytest.raises(ProviderError) as raised:
        ApnsClient(credential.for_client()).send([alert(device())])

    assert raised.value.permanent
    assert "expired on" in raised.value.message
    assert sandbox.received() == []


def test_it_refuses_a_p12_with_the_wrong_password_without_showing_the_secret(sandbox, kiosk):
    credential = kiosk.apns_credential
    secret = credential.read_secret()
    credential.store_secret({**secret, "certificate_password": "wrong"})

    with pytest.raises(ProviderError) as raised:
        ApnsClient(credential.for_client()).send([alert(device())])

    assert raised.value.permanent
    assert "unreadable .p12" in raised.value.message
    assert secret["certificate_p12"][:40] not in raised.value.message
    assert sandbox.received() == []


def test_it_refuses_an_unreadable_signing_key_without_showing_it(sandbox, retail):
    credential = retail.apns_credential
    credential.store_secret({"signing_key": "-----BEGIN PRIVATE KEY-----\nnot-a-key-at-all"})

    with pytest.raises(ProviderError) as raised:
        ApnsClient(credential.for_client()).send([alert(device())])

    assert raised.value.permanent
    assert "unreadable .p8" in raised.value.message
    assert "not-a-key-at-all" not in raised.value.message
    assert sandbox.received() == []


@pytest.mark.parametrize(("app", "what"), [("retail", ".p8 signing key"), ("kiosk", ".p12")])
def test_a_secret_that_cannot_be_decrypted_makes_no_client(sandbox, retail, kiosk, app, what):
    credential = {"retail": retail, "kiosk": kiosk}[app].apns_credential
    credential.encrypted_secret = "not a fernet token"

    with pytest.raises(ProviderError) as raised:
        credential.for_client()

    assert raised.value.permanent
    assert f"unreadable {what}" in raised.value.message
    assert "(DecryptionError)" in raised.value.message
    assert sandbox.received() == []


def test_it_refuses_token_auth_without_a_team_id(sandbox, retail):
    credential = retail.apns_credential
    credential.team_id = ""

    with pytest.raises(ProviderError, match="Team ID") as raised:
        ApnsClient(credential.for_client()).send([alert(device())])

    assert raised.value.permanent


# Validation ------------------------------------------------------------------------------------


def test_validate_accepts_a_key_apple_authenticates(sandbox, client):
    valid, message = client.validate()

    assert valid is True
    assert "accepted the credentials for com.contoso.retail" in message
    assert "BadDeviceToken" in message
    [line] = sandbox.received("apns")
    assert (line["status"], line["reason"]) == (400, "BadDeviceToken")
    assert line["headers"]["apns-topic"] == TOPIC


def test_validate_accepts_a_certificate_apple_authenticates(sandbox, kiosk):
    with closing(ApnsClient(kiosk.apns_credential.for_client())) as client:
        valid, message = client.validate()

    assert valid is True
    assert "com.contoso.kiosk" in message


def test_validate_refuses_a_key_apple_does_not_know_with_apples_reason(sandbox, client):
    sandbox.gateways.credentials.forget_registered()

    valid, message = client.validate()

    assert valid is False
    assert message.startswith(
        "APNs refused the credentials: InvalidProviderToken: "
        "the provider token cannot be replaced before "
    )
    assert len(sandbox.received("apns")) == 1  # a new token now would be one too many


def test_validate_refuses_a_bundle_id_the_key_may_not_push_to(sandbox, retail):
    credential = retail.apns_credential
    credential.bundle_id = "com.contoso.elsewhere"

    valid, message = ApnsClient(credential.for_client()).validate()

    assert valid is False
    assert "TopicDisallowed" in message


def test_validate_refuses_an_unreadable_key_without_asking_apple(sandbox, retail):
    credential = retail.apns_credential
    credential.store_secret({"signing_key": "garbage"})

    valid, message = ApnsClient(credential.for_client()).validate()

    assert valid is False
    assert "unreadable .p8" in message
    assert sandbox.received() == []


def test_validate_raises_when_apple_cannot_be_reached(sandbox, client, settings, tmp_path):
    settings.CA_BUNDLE = Authority(tmp_path, "stranger").file

    with pytest.raises(ProviderError) as raised:
        client.validate()

    assert not raised.value.permanent
    assert "TLS handshake failed" in raised.value.message

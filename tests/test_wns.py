"""The WNS client over real sockets: the sandbox's Azure AD token endpoint and channels, and a
scripted HTTP/2 server (tests/h2_server.py) for the answers the sandbox never gives.

`news` is the Windows app; its WnsCredential is known to the sandbox (tests/sandbox.py).
"""

from __future__ import annotations

import re
import socket
import ssl
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from devices.models import DeviceStatus, WnsCredential
from devices.providers import connections
from devices.providers import wns as wns_provider
from devices.providers.base import Outcome, ProviderError, Push
from devices.providers.message import Message, TileBinding, WindowsOptions
from devices.providers.wns import WnsClient, clear_token_cache
from devices.providers.wns import render as render_wns
from devices.registration import register_device
from devices.sandbox.wns import DESCRIPTIONS
from devices.sending import send_now
from tests.conftest import PACKAGE_SID
from tests.h2_server import Authority, H2Server
from tests.waiting import ManualClock

pytest_plugins = ["tests.sandbox"]

SECRET = "wns-client-secret-value"  # news's client secret (tests/conftest.py)
TOAST = (
    b'<toast><visual><binding template="ToastGeneric"><text>Hello</text></binding></visual></toast>'
)
TOAST_HEADERS = {"X-WNS-Type": "wns/toast", "Content-Type": "text/xml"}


@pytest.fixture(autouse=True)
def fresh_tokens():
    """Start every test without cached tokens, so token requests can be counted."""
    clear_token_cache()
    yield
    clear_token_cache()


@pytest.fixture
def token_clock(monkeypatch) -> ManualClock:
    """The clock the access token cache reads, moved on by the test."""
    clock = ManualClock()
    monkeypatch.setattr(wns_provider._TOKENS, "clock", clock)
    return clock


@pytest.fixture
def credential(sandbox, news) -> WnsCredential:
    return news.wns_credential


@pytest.fixture
def client(credential):
    wns_client = WnsClient(credential.for_client())
    yield wns_client
    wns_client.close()


def toast(sandbox, channel: str, key: str = "d-1", **headers: str) -> Push:
    return Push(key, sandbox.channel_uri(channel), TOAST, {**TOAST_HEADERS, **headers})


def token_requests(sandbox) -> list[dict]:
    return sandbox.received("wns-token")


# Delivery ------------------------------------------------------------------------------------


def test_it_delivers_a_rendered_toast_with_the_renderers_headers(sandbox, client):
    expires = datetime.now(UTC) + timedelta(hours=1)
    payload = render_wns(Message(title="Sale", body="Today only", expires_at=expires))
    push = Push("delivery-1", sandbox.channel_uri("c-1"), payload.body, payload.headers)

    [result] = client.send([push])

    assert result.outcome == Outcome.SENT
    assert (result.key, result.status, result.reason) == ("delivery-1", 200, "")
    assert re.fullmatch(r"[0-9A-F]{16}", result.provider_id)
    assert re.fullmatch(
        r"X-WNS-Status: received; X-WNS-DeviceConnectionStatus: connected; "
        r"X-WNS-Debug-Trace: SANDBOX\d{9}",
        result.detail,
    )
    [line] = sandbox.received("wns")
    assert line["target"] == sandbox.channel_uri("c-1")
    headers = line["headers"]
    assert headers["authorization"] == "Bearer …"
    assert headers["x-wns-type"] == "wns/toast"
    assert headers["content-type"] == "text/xml"
    assert 3500 <= int(headers["x-wns-ttl"]) <= 3600
    assert headers["x-wns-requestforstatus"] == "true"
    assert line["payload"] == payload.body.decode()


def test_it_sends_raw_notifications_as_octet_stream(sandbox, client):
    push = Push("raw", sandbox.channel_uri("c-1"), b'{"sync": 1}', {"X-WNS-Type": "wns/raw"})

    [result] = client.send([push])

    assert result.outcome == Outcome.SENT
    [line] = sandbox.received("wns")
    assert line["headers"]["x-wns-type"] == "wns/raw"
    assert line["headers"]["content-type"] == "application/octet-stream"
    assert line["payload"] == {"sync": 1}


def test_it_passes_tag_and_group_and_no_header_but_wns_ones(sandbox, client):
    push = toast(sandbox, "c-1", **{"X-WNS-Tag": "sale", "X-WNS-Group": "offers", "X-Debug": "1"})

    [result] = client.send([push])

    assert result.outcome == Outcome.SENT
    headers = sandbox.received("wns")[0]["headers"]
    assert (headers["x-wns-tag"], headers["x-wns-group"]) == ("sale", "offers")
    assert "x-debug" not in headers


def sale_tile(collapse_id: str = "") -> Message:
    tiles = (TileBinding("medium", texts=("Sale",)),)
    return Message(kind="tile", collapse_id=collapse_id, windows=WindowsOptions(tiles=tiles))


def rendered(sandbox, message: Message, channel: str = "c-1", key: str = "d-1") -> Push:
    payload = render_wns(message)
    return Push(key, sandbox.channel_uri(channel), payload.body, payload.headers)


def test_it_sends_no_tag_without_a_collapse_id(sandbox, client):
    # Microsoft's "Push notification service request and response headers": X-WNS-Tag is
    # optional, for tiles only; a tile without a collapse id carries none.
    results = client.send(
        [
            rendered(sandbox, sale_tile(), key="untagged"),
            rendered(
                sandbox, Message(kind="toast", title="Sale", collapse_id="sale42"), key="toast"
            ),
            rendered(sandbox, sale_tile("sale42"), key="tagged"),
        ]
    )

    assert [r.outcome for r in results] == [Outcome.SENT] * 3
    tags = sorted(line["headers"].get("x-wns-tag", "") for line in sandbox.received("wns"))
    assert tags == ["", "", "sale42"]


def test_the_gateway_refuses_a_tag_wns_would_refuse_with_400(sandbox, client):
    with httpx.Client(verify=tls_context_for(sandbox), timeout=10) as http:
        token = http.post(
            f"{sandbox.wns_token_url}/{client.credential.tenant_id}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client.credential.client_id,
                "client_secret": SECRET,
                "scope": "https://wns.windows.com/.default",
            },
        ).json()["access_token"]
        answer = http.post(
            sandbox.channel_uri("c-1"),
            content=b"<tile/>",
            headers={
                "Authorization": f"Bearer {token}",
                "X-WNS-Type": "wns/tile",
                "Content-Type": "text/xml",
                "X-WNS-Tag": "pushcenter-42",
            },
        )

    assert answer.status_code == 400
    assert answer.headers["x-wns-error-description"] == (
        "X-WNS-Tag must be an alphanumeric string of no more than 16 characters."
    )
    assert answer.headers["x-wns-msg-id"] and answer.headers["x-wns-debug-trace"]


def tls_context_for(sandbox) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=sandbox.ca_bundle)


def test_it_requests_the_token_as_the_quickstart_shows(sandbox, client, credential):
    client.send([toast(sandbox, "c-1")])

    [line] = token_requests(sandbox)
    assert line["status"] == 200
    assert line["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert line["payload"] == {
        "grant_type": "client_credentials",
        "client_id": credential.client_id,
        "scope": "https://wns.windows.com/.default",
    }  # the sandbox records the form without client_secret; it checked the secret's digest


# Tokens --------------------------------------------------------------------------------------


def test_it_reuses_one_token_for_many_sends_and_clients(sandbox, credential):
    for _ in range(3):
        other = WnsClient(credential.for_client())
        try:
            results = other.send([toast(sandbox, f"c-{n}", key=str(n)) for n in range(5)])
        finally:
            other.close()
        assert {result.outcome for result in results} == {Outcome.SENT}

    assert len(token_requests(sandbox)) == 1
    assert len(sandbox.received("wns")) == 15


def test_it_renews_the_token_five_minutes_before_it_expires(sandbox, client, token_clock):
    client.send([toast(sandbox, "c-1")])
    lifetime = 86399  # what the sandbox, like Azure AD, says in expires_in

    token_clock.advance(lifetime - 301)
    client.send([toast(sandbox, "c-1")])
    assert len(token_requests(sandbox)) == 1

    token_clock.advance(2)
    client.send([toast(sandbox, "c-1")])
    assert len(token_requests(sandbox)) == 2


def test_it_refreshes_a_refused_token_once_and_resends(sandbox, client):
    client.send([toast(sandbox, "c-0")])
    sandbox.expire_access_tokens()

    results = client.send([toast(sandbox, f"c-{n}", key=str(n)) for n in range(3)])

    assert [(r.key, r.outcome, r.status) for r in results] == [
        (str(n), Outcome.SENT, 200) for n in range(3)
    ]
    assert len(token_requests(sandbox)) == 2
    assert [line["status"] for line in sandbox.received("wns")] == [
        200,
        401,
        401,
        401,
        200,
        200,
        200,
    ]


def test_it_fails_auth_when_azure_ad_refuses_the_refresh(sandbox, client, credential):
    client.send([toast(sandbox, "c-0")])
    # The secret is rotated in Azure AD: the old one no longer gets a token.
    sandbox.gateways.credentials.forget_registered()
    rotated = WnsCredential(
        tenant_id=credential.tenant_id, client_id=credential.client_id, object_id="o"
    )
    rotated.store_secret({"client_secret": "a-newer-secret"})
    sandbox.register(rotated)
    sandbox.expire_access_tokens()

    [result] = client.send([toast(sandbox, "c-1")])

    assert (result.outcome, result.status, result.reason) == (
        Outcome.AUTH_FAILED,
        401,
        "Unauthorized",
    )
    assert "invalid_client" in result.detail
    assert "AADSTS7000215" in result.detail
    assert SECRET not in result.detail
    assert [line["status"] for line in sandbox.received("wns")] == [200, 401]


def test_it_fails_auth_when_the_refreshed_token_is_refused_too(sandbox, scripted, client):
    pushes = [Push(str(n), scripted.channel("/status/401"), TOAST, TOAST_HEADERS) for n in range(2)]

    results = client.send(pushes)

    assert [(r.outcome, r.status) for r in results] == [(Outcome.AUTH_FAILED, 401)] * 2
    assert len(token_requests(sandbox)) == 2  # the first token and one refresh, no more
    assert len(scripted.server.seen) == 4  # each push sent twice


# Answers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "outcome", "status", "reason", "retry_after"),
    [
        ("expired-1", Outcome.DEVICE_GONE, 410, "Gone", None),
        ("gone-1", Outcome.DEVICE_GONE, 404, "Not Found", None),
        ("throttled-1", Outcome.RETRY, 406, "Not Acceptable", None),
        ("busy-1", Outcome.RETRY, 429, "Too Many Requests", 1.0),
        ("fail-1", Outcome.RETRY, 503, "Service Unavailable", None),
        ("flaky-1", Outcome.RETRY, 500, "Internal Server Error", None),
    ],
    ids=["410-retires", "404-retires", "406-retries", "429-retries", "503-retries", "500-retries"],
)
def test_it_classifies_what_wns_answers_a_channel(
    sandbox, client, channel, outcome, status, reason, retry_after
):
    [result] = client.send([toast(sandbox, channel)])

    assert (result.outcome, result.status, result.reason) == (outcome, status, reason)
    assert result.retry_after == retry_after
    # WNS's own words and trace come along for people to read.
    assert result.detail.startswith(DESCRIPTIONS[status])
    assert "X-WNS-Debug-Trace: SANDBOX" in result.detail
    assert re.fullmatch(r"[0-9A-F]{16}", result.provider_id)
    assert len(sandbox.received("wns")) == 1  # never retried inside send


def test_it_retires_the_device_on_410_channel_expired(sandbox, client):
    [result] = client.send([toast(sandbox, "expired-channel")])

    assert result.outcome == Outcome.DEVICE_GONE
    assert result.detail.startswith("The channel expired.")


def test_it_fails_the_message_on_400_with_wns_description(sandbox, client):
    badge = Push("b", sandbox.channel_uri("c-1"), b'<badge value="1"/>', TOAST_HEADERS)

    [result] = client.send([badge])

    assert (result.outcome, result.status, result.reason) == (
        Outcome.MESSAGE_FAILED,
        400,
        "Bad Request",
    )
    assert result.detail.startswith("The payload is not well-formed <toast> XML.")


def test_it_fails_the_message_on_413_payload_too_large(sandbox, client):
    tile = b"<tile>" + b"x" * 5200 + b"</tile>"
    push = Push("t", sandbox.channel_uri("c-1"), tile, {"X-WNS-Type": "wns/tile"})

    [result] = client.send([push])

    assert (result.outcome, result.status, result.reason) == (
        Outcome.MESSAGE_FAILED,
        413,
        "Request Entity Too Large",
    )


def test_the_gateway_takes_5000_bytes_and_refuses_a_toast_over_5000_bytes(sandbox, client):
    # Microsoft's 413 reads "The notification payload exceeds the 5000 byte size limit."
    base = render_wns(Message(body="x")).size
    pushes = [
        Push(str(size), sandbox.channel_uri("c-1"), payload.body, payload.headers)
        for size in (5000, 5001)
        for payload in [render_wns(Message(body="x" * (1 + size - base)))]
    ]

    exact, over = client.send(pushes)

    assert exact.outcome == Outcome.SENT
    assert (over.outcome, over.status, over.reason) == (
        Outcome.MESSAGE_FAILED,
        413,
        "Request Entity Too Large",
    )
    assert over.detail.startswith("The notification payload exceeds the 5000 byte size limit.")
    assert sorted(len(line["payload"].encode()) for line in sandbox.received("wns")) == [5000, 5001]


@pytest.mark.parametrize(
    ("path", "outcome", "reason"),
    [
        ("/status/403", Outcome.AUTH_FAILED, "Forbidden"),
        ("/status/405", Outcome.MESSAGE_FAILED, "Method Not Allowed"),
        ("/status/502", Outcome.RETRY, "HTTP 502"),
        ("/redirect", Outcome.MESSAGE_FAILED, "HTTP 301"),
    ],
    ids=["403-auth", "405-message", "other-5xx-retries", "redirect-not-followed"],
)
def test_it_classifies_answers_the_sandbox_never_gives(
    sandbox, scripted, client, path, outcome, reason
):
    [result] = client.send([Push("s", scripted.channel(path), TOAST, TOAST_HEADERS)])

    assert (result.outcome, result.reason) == (outcome, reason)
    assert len(scripted.server.seen) == 1  # 403 is our identity, not the token: no refresh
    assert len(token_requests(sandbox)) == 1


# Microsoft's "Push notification service request and response headers": WNS may answer 200 with
# X-WNS-Status "received", "dropped" or "channelthrottled"; only "received" was taken.


def test_it_retries_channelthrottled(sandbox, client):
    # "The notification was dropped because the app server exceeded the rate limit for this
    # specific channel."; X-WNS-Continue-After says how long to wait.
    [result] = client.send([toast(sandbox, "channelthrottled-1")])

    assert (result.outcome, result.status, result.reason) == (
        Outcome.RETRY,
        200,
        "channelthrottled",
    )
    assert result.retry_after == 1.0
    assert result.detail.startswith(
        "X-WNS-Status: channelthrottled (WNS dropped it because we exceeded the rate limit for "
        "this channel; retry later)"
    )
    assert "X-WNS-Debug-Trace: SANDBOX" in result.detail
    assert re.fullmatch(r"[0-9A-F]{16}", result.provider_id)


def test_it_records_dropped_as_not_delivered(sandbox, client):
    # "The notification was explicitly dropped because of an error or because the client has
    # explicitly rejected these notifications. Toast notifications will also be dropped if the
    # device is offline."
    [result] = client.send([toast(sandbox, "dropped-1")])

    assert (result.outcome, result.status, result.reason) == (
        Outcome.MESSAGE_FAILED,
        200,
        "dropped",
    )
    assert result.retry_after is None
    assert result.detail.startswith(
        "X-WNS-Status: dropped (WNS dropped it because of an error or because the app on the "
        "device rejects these notifications; a toast is also dropped while the device is offline)"
    )
    assert "X-WNS-Debug-Trace: SANDBOX" in result.detail
    assert re.fullmatch(r"[0-9A-F]{16}", result.provider_id)


def test_received_among_dropped_and_throttled_is_the_only_sent(sandbox, client):
    channels = ["c-1", "dropped-2", "channelthrottled-2"]
    results = client.send([toast(sandbox, c, key=c) for c in channels])

    assert [(r.key, r.outcome) for r in results] == [
        ("c-1", Outcome.SENT),
        ("dropped-2", Outcome.MESSAGE_FAILED),
        ("channelthrottled-2", Outcome.RETRY),
    ]


def test_domain_blocked_is_a_credential_failure(sandbox, client):
    # Microsoft's table: "410 Domain Blocked | The sending domain has been blocked by WNS."
    [result] = client.send([toast(sandbox, "blocked-1")])

    assert (result.outcome, result.status, result.reason) == (
        Outcome.AUTH_FAILED,
        410,
        "Domain Blocked",
    )
    assert result.detail.startswith("The sending domain has been blocked by WNS.")
    assert "X-WNS-Debug-Trace: SANDBOX" in result.detail
    assert len(token_requests(sandbox)) == 1  # our sender is blocked: a new token changes nothing


@pytest.mark.parametrize(
    ("channel", "outcome", "status"),
    [
        ("blocked-1", Outcome.AUTH_FAILED, DeviceStatus.ACTIVE),
        ("expired-1", Outcome.DEVICE_GONE, DeviceStatus.CHANNEL_EXPIRED),
    ],
    ids=["domain-blocked-keeps-it", "channel-expired-retires-it"],
)
def test_domain_blocked_never_retires_the_device(sandbox, news, channel, outcome, status):
    device, _ = register_device(
        news, uuid.uuid4(), {"platform": "windows", "channel_uri": sandbox.channel_uri(channel)}
    )

    result = send_now(device, TOAST, TOAST_HEADERS, key="test-send")

    device.refresh_from_db()
    assert (result.outcome, result.status) == (outcome, 410)
    assert device.status == status


def test_403_never_retires_the_device(sandbox, scripted, news):
    # "The cloud service is not authorized to send a notification to this URI even though they
    # are authenticated": our credentials are at fault, not the device.
    channel = scripted.channel("/status/403")
    device, _ = register_device(news, uuid.uuid4(), {"platform": "windows", "channel_uri": channel})

    result = send_now(device, TOAST, TOAST_HEADERS, key="test-send")

    device.refresh_from_db()
    assert (result.outcome, result.status, result.reason) == (Outcome.AUTH_FAILED, 403, "Forbidden")
    assert device.status == DeviceStatus.ACTIVE


def test_it_answers_a_flaky_channel_with_retry_then_delivers_on_the_callers_retry(sandbox, client):
    first = client.send([toast(sandbox, "flaky-2")])
    second = client.send([toast(sandbox, "flaky-2")])
    third = client.send([toast(sandbox, "flaky-2")])

    assert [r[0].outcome for r in (first, second, third)] == [
        Outcome.RETRY,
        Outcome.RETRY,
        Outcome.SENT,
    ]


def test_it_answers_hundreds_of_messages_in_one_send(sandbox, client):
    channels = [f"c-{n}" for n in range(400)]
    channels[7], channels[123], channels[399] = "expired-7", "busy-123", "gone-399"
    pushes = [toast(sandbox, channel, key=f"delivery-{n}") for n, channel in enumerate(channels)]

    results = client.send(pushes)

    assert [result.key for result in results] == [push.key for push in pushes]
    outcomes = [result.outcome for result in results]
    assert outcomes.count(Outcome.SENT) == 397
    assert (outcomes[7], outcomes[123], outcomes[399]) == (
        Outcome.DEVICE_GONE,
        Outcome.RETRY,
        Outcome.DEVICE_GONE,
    )
    assert len({result.provider_id for result in results}) == 400
    assert len(sandbox.received("wns")) == 400
    assert len(token_requests(sandbox)) == 1


# The allowlist and what is never sent --------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "https://attacker.example.com/?token=abc",
        "https://notify.windows.com.attacker.example/?token=abc",
        "https://127.0.0.1/?token=abc",
        "http://db5p.notify.windows.com/?token=abc",
        "https://user@db5p.notify.windows.com/?token=abc",
        "",
    ],
    ids=["other-host", "suffix-trick", "ip-address", "plain-http", "userinfo", "empty"],
)
def test_it_never_sends_to_a_channel_outside_the_allowlist(sandbox, client, target):
    [result] = client.send([Push("x", target, TOAST, TOAST_HEADERS)])

    assert (result.outcome, result.status, result.reason) == (
        Outcome.MESSAGE_FAILED,
        0,
        "ChannelNotAllowed",
    )
    assert result.detail.startswith("not sent: the channel URI must ")
    assert sandbox.received() == []  # not even a token was asked for


def test_it_checks_the_allowlist_at_send_time(sandbox, client, settings):
    allowed = toast(sandbox, "c-1", key="allowed")
    settings.WNS_HOSTS = ["notify.windows.com"]  # the sandbox host was allowed at registration

    [result] = client.send([allowed])

    assert result.reason == "ChannelNotAllowed"
    assert sandbox.received("wns") == []


def test_it_sends_the_allowed_pushes_of_a_mixed_batch(sandbox, client):
    pushes = [
        toast(sandbox, "c-1", key="ok"),
        Push("evil", "https://attacker.example.com/x", TOAST, TOAST_HEADERS),
        toast(sandbox, "c-2", key="ok-too"),
    ]

    results = client.send(pushes)

    assert [(r.key, r.outcome) for r in results] == [
        ("ok", Outcome.SENT),
        ("evil", Outcome.MESSAGE_FAILED),
        ("ok-too", Outcome.SENT),
    ]
    targets = sorted(line["target"] for line in sandbox.received("wns"))
    assert targets == [sandbox.channel_uri("c-1"), sandbox.channel_uri("c-2")]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-WNS-Type": "wns/shout"},
        {"X-WNS-Type": "wns/toast", "X-WNS-Tag": "a\r\nX-Evil: 1"},
        # Microsoft: X-WNS-Tag and X-WNS-Group are alphanumeric, at most 16 characters.
        {"X-WNS-Type": "wns/tile", "X-WNS-Tag": "pushcenter-42"},
        {"X-WNS-Type": "wns/tile", "X-WNS-Tag": "x" * 17},
        {"X-WNS-Type": "wns/toast", "X-WNS-Group": "special_offers"},
    ],
    ids=["no-type", "unknown-type", "header-injection", "tag-hyphen", "tag-17", "group-underscore"],
)
def test_it_never_sends_a_notification_wns_cannot_take(sandbox, client, headers):
    [result] = client.send([Push("x", sandbox.channel_uri("c-1"), TOAST, headers)])

    assert (result.outcome, result.reason) == (Outcome.MESSAGE_FAILED, "InvalidNotification")
    assert result.detail.startswith("not sent: ")
    assert sandbox.received() == []


def test_it_sends_nothing_for_no_pushes(sandbox, client):
    assert client.send([]) == []
    assert sandbox.received() == []


# Failures of the whole client ----------------------------------------------------------------


def test_it_raises_a_permanent_error_naming_aad_when_the_secret_is_refused(sandbox, credential):
    credential.store_secret(
        {"client_secret": "not-the-secret"}
    )  # unsaved: the sandbox keeps SECRET
    wns_client = WnsClient(credential.for_client())
    try:
        with pytest.raises(ProviderError) as raised:
            wns_client.send([toast(sandbox, "c-1")])
    finally:
        wns_client.close()

    assert raised.value.permanent
    assert raised.value.message.startswith(
        f"Azure AD refused a WNS token for application {credential.client_id}: invalid_client "
        "(AADSTS7000215: Invalid client secret provided."
    )
    assert "not-the-secret" not in raised.value.message
    assert sandbox.received("wns") == []


def test_it_reports_a_tls_failure_of_the_token_endpoint(sandbox, client, settings, tmp_path):
    settings.CA_BUNDLE = Authority(tmp_path, "stranger").file

    with pytest.raises(ProviderError) as raised:
        client.send([toast(sandbox, "c-1")])

    assert not raised.value.permanent
    assert "could not reach Azure AD's token endpoint: ConnectError" in raised.value.message
    assert "CERTIFICATE_VERIFY_FAILED" in raised.value.message
    assert sandbox.received() == []


def test_it_reports_a_tls_failure_of_a_channel_in_the_result(sandbox, client, settings, tmp_path):
    client.send([toast(sandbox, "c-0")])  # a token is cached while the CA is right
    settings.CA_BUNDLE = Authority(tmp_path, "stranger").file
    other = WnsClient(client.credential)  # its transport trusts only the stranger (and the system)
    try:
        [result] = other.send([toast(sandbox, "c-1")])
    finally:
        other.close()

    assert (result.outcome, result.status) == (Outcome.DEVICE_RETRY, 0)
    assert result.detail.startswith("TLS handshake failed: ")
    assert "certificate" in result.detail.lower()
    assert len(sandbox.received("wns")) == 1  # only the first push got through


@pytest.mark.parametrize("unreachable", ["refuses-connections", "does-not-resolve"])
def test_an_unreachable_channel_host_is_a_device_retry(sandbox, client, settings, unreachable):
    host = {
        "refuses-connections": f"localhost:{unused_port()}",
        "does-not-resolve": "db5p.channel.invalid",  # RFC 6761: .invalid never resolves
    }[unreachable]
    settings.WNS_HOSTS = [*settings.WNS_HOSTS, host]
    pushes = [Push("dead-host", f"https://{host}/?token=abc", TOAST, TOAST_HEADERS)]
    pushes.append(toast(sandbox, "c-1", key="healthy"))

    unreachable, healthy = client.send(pushes)

    # Each channel URI names its own host: one that does not answer is this device's trouble,
    # retried later without counting against WNS.
    assert (unreachable.outcome, unreachable.status) == (Outcome.DEVICE_RETRY, 0)
    assert unreachable.detail
    assert healthy.outcome == Outcome.SENT


def test_it_reports_an_unreachable_token_endpoint_as_temporary(sandbox, client, settings):
    settings.WNS_TOKEN_URL = f"https://localhost:{unused_port()}"

    with pytest.raises(ProviderError) as raised:
        client.send([toast(sandbox, "c-1")])

    assert not raised.value.permanent
    assert raised.value.message.startswith(
        "could not reach Azure AD's token endpoint: ConnectError"
    )


def test_a_secret_that_cannot_be_decrypted_makes_no_client(sandbox, credential):
    credential.encrypted_secret = "not a fernet token"

    with pytest.raises(ProviderError, match="has an unreadable client secret") as raised:
        credential.for_client()

    assert raised.value.permanent
    assert "(DecryptionError)" in raised.value.message
    assert sandbox.received() == []


# validate() ----------------------------------------------------------------------------------


def test_validate_accepts_a_credential_wns_issues_a_token_for(sandbox, client):
    assert client.validate() == (True, "WNS issued a token")
    assert len(token_requests(sandbox)) == 1


def test_validate_asks_azure_ad_even_with_a_cached_token(sandbox, client):
    client.send([toast(sandbox, "c-1")])

    assert client.validate() == (True, "WNS issued a token")
    assert len(token_requests(sandbox)) == 2


def test_validate_refuses_a_wrong_secret_with_aads_description(sandbox, credential):
    credential.store_secret({"client_secret": "not-the-secret"})

    valid, message = WnsClient(credential.for_client()).validate()

    assert not valid
    assert "invalid_client (AADSTS7000215: Invalid client secret provided." in message
    assert "not-the-secret" not in message
    assert "\r" not in message and "\n" not in message


def test_validate_refuses_an_application_unknown_to_the_tenant(sandbox, credential):
    credential.client_id = "44444444-4444-4444-8444-444444444444"

    valid, message = WnsClient(credential.for_client()).validate()

    assert not valid
    assert "unauthorized_client (AADSTS700016: Application with identifier" in message


def test_validate_raises_when_azure_ad_cannot_be_asked(sandbox, client, settings):
    settings.WNS_TOKEN_URL = f"https://localhost:{unused_port()}"

    with pytest.raises(ProviderError) as raised:
        client.validate()

    assert not raised.value.permanent


# The Package SID flow (Store apps registered in Partner Center) ------------------------------

STORE_SECRET = "store-client-secret-value"  # store's client secret (tests/conftest.py)


@pytest.fixture
def store_client(sandbox, store):
    wns_client = WnsClient(store.wns_credential.for_client())
    yield wns_client
    wns_client.close()


def test_a_package_sid_credential_sends_with_a_token_of_the_live_endpoint(sandbox, store_client):
    [result] = store_client.send([toast(sandbox, "c-1")])

    assert (result.outcome, result.status) == (Outcome.SENT, 200)
    [line] = token_requests(sandbox)
    assert line["status"] == 200
    assert line["target"] == PACKAGE_SID
    assert line["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert line["payload"] == {
        "grant_type": "client_credentials",
        "client_id": PACKAGE_SID,
        "scope": "notify.windows.com",
    }  # the sandbox records the form without client_secret; it checked the secret's digest
    [notification] = sandbox.received("wns")
    assert notification["status"] == 200


def test_a_package_sid_token_is_cached_and_renewed_before_it_expires(
    sandbox, store, store_client, token_clock
):
    store_client.send([toast(sandbox, "c-1")])
    other = WnsClient(store.wns_credential.for_client())
    try:
        other.send([toast(sandbox, "c-2")])
        lifetime = 86400  # what the Live endpoint says in expires_in
        token_clock.advance(lifetime - 301)
        other.send([toast(sandbox, "c-3")])
        assert len(token_requests(sandbox)) == 1

        token_clock.advance(2)
        [result] = other.send([toast(sandbox, "c-4")])
    finally:
        other.close()

    assert result.outcome == Outcome.SENT
    assert len(token_requests(sandbox)) == 2


def test_a_package_sid_token_refused_by_wns_is_replaced_once(sandbox, store_client):
    store_client.send([toast(sandbox, "c-0")])
    sandbox.expire_access_tokens()

    [result] = store_client.send([toast(sandbox, "c-1")])

    assert result.outcome == Outcome.SENT
    assert len(token_requests(sandbox)) == 2


def test_a_wrong_package_secret_is_a_permanent_error_naming_the_sid(sandbox, store, caplog):
    credential = store.wns_credential
    credential.store_secret({"client_secret": "not-the-secret"})  # unsaved: the sandbox keeps its
    wns_client = WnsClient(credential.for_client())
    try:
        with pytest.raises(ProviderError) as raised:
            wns_client.send([toast(sandbox, "c-1")])
    finally:
        wns_client.close()

    assert raised.value.permanent
    assert raised.value.message == (
        f"WNS refused a token for Package SID {PACKAGE_SID}: invalid_client (Invalid client secret)"
    )
    assert [line["status"] for line in token_requests(sandbox)] == [400]
    assert sandbox.received("wns") == []
    assert "not-the-secret" not in caplog.text + repr(wns_client.credential)
    assert "not-the-secret" not in str(sandbox.received())


def test_validate_accepts_a_package_sid_the_live_endpoint_issues_a_token_for(sandbox, store_client):
    assert store_client.validate() == (True, "WNS issued a token")
    assert len(token_requests(sandbox)) == 1


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"client_secret": "not-the-secret"}, "invalid_client (Invalid client secret)"),
        ({"package_sid": PACKAGE_SID + "1"}, "invalid_client (Invalid client id)"),
    ],
    ids=["wrong-secret", "unknown-sid"],
)
def test_validate_refuses_a_package_sid_credential_the_live_endpoint_refuses(
    sandbox, store, changes, said
):
    fields = {"client_secret": STORE_SECRET, "package_sid": PACKAGE_SID, **changes}
    secret = wns_provider.WnsSecret(
        name="WNS credential of store",
        identity="WnsCredential:unsaved",
        version="1",
        client_secret=fields["client_secret"],
        package_sid=fields["package_sid"],
    )

    valid, message = WnsClient(secret).validate()

    assert not valid
    assert message.endswith(said)
    assert "not-the-secret" not in message


def test_an_unreachable_live_endpoint_is_temporary(sandbox, store_client, settings):
    settings.WNS_LEGACY_TOKEN_URL = f"https://localhost:{unused_port()}/accesstoken.srf"

    with pytest.raises(ProviderError) as raised:
        store_client.send([toast(sandbox, "c-1")])

    assert not raised.value.permanent
    assert raised.value.message.startswith(
        "could not reach WNS's token endpoint (login.live.com): ConnectError"
    )


# A scripted server for answers the sandbox never gives ---------------------------------------


class Scripted:
    def __init__(self, server: H2Server) -> None:
        self.server = server

    def channel(self, path: str) -> str:
        return f"https://localhost:{self.server.port}{path}"


@pytest.fixture
def scripted(sandbox, settings, tmp_path: Path):
    """Serve tests/h2_server.py's scripted answers on an allowed channel host."""
    authority = Authority(tmp_path, "scripted")
    bundle = tmp_path / "both.pem"
    bundle.write_bytes(Path(sandbox.ca_bundle).read_bytes() + Path(authority.file).read_bytes())
    with H2Server(authority.issue_server()) as server:
        settings.CA_BUNDLE = str(bundle)
        settings.WNS_HOSTS = [*settings.WNS_HOSTS, f"localhost:{server.port}"]
        yield Scripted(server)
        # A send_now keeps its connection in the process's pool; the server would wait for it.
        connections.pool.close_all()


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

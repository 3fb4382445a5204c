"""The sandbox gateways: APNs, FCM and WNS look-alikes over real TLS, as clients see them."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import ssl
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from devices import sample_credentials
from devices.models import ApnsCredential, FcmCredential, MobileApp, WnsCredential
from devices.sandbox.certificates import ensure_certificates
from devices.sandbox.directory import CredentialDirectory
from devices.sandbox.server import GatewayThread, SandboxGateways
from tests.conftest import PACKAGE_SID
from tests.waiting import wait_for

pytest_plugins = ["tests.sandbox"]

ROOT = Path(__file__).resolve().parent.parent
DEVICE = "ab" * 32
TOPIC = "com.contoso.retail"
ALERT = {"aps": {"alert": {"title": "Sale", "body": "Half price today"}}}
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
FCM_AUDIENCE = "https://oauth2.googleapis.com/token"
WNS_SCOPE = "https://wns.notifications.windows.com/.default"
TOAST = '<toast><visual><binding template="ToastGeneric"><text>Hi</text></binding></visual></toast>'


def tls(ca_bundle: str | Path, client_certificate: tuple[Path, Path] | None = None):
    context = ssl.create_default_context(cafile=str(ca_bundle))
    if client_certificate is not None:
        context.load_cert_chain(*client_certificate)
    return context


# APNs -----------------------------------------------------------------------------------------


def provider_token(credential: ApnsCredential, *, issued_at: int | None = None, key=None) -> str:
    signing_key = key or credential.read_secret()["signing_key"]
    claims = {"iss": credential.team_id, "iat": issued_at or int(time.time())}
    return jwt.encode(claims, signing_key, algorithm="ES256", headers={"kid": credential.key_id})


@pytest.fixture
def apns(sandbox):
    with httpx.Client(
        http2=True, verify=tls(sandbox.ca_bundle), base_url=sandbox.apns_url, timeout=10
    ) as client:
        yield client


def push(
    client: httpx.Client,
    device: str,
    token: str | None,
    *,
    topic: str = TOPIC,
    payload: object = ALERT,
    **headers: str,
) -> httpx.Response:
    sent = {"apns-topic": topic, "apns-push-type": "alert", **headers}
    if token is not None:
        sent["authorization"] = f"bearer {token}"
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(f"/3/device/{device}", content=body, headers=sent)


def test_apns_delivers_over_http2_with_a_valid_provider_token(sandbox, retail, apns):
    apns_id = str(uuid.uuid4()).upper()
    response = push(apns, DEVICE, provider_token(retail.apns_credential), **{"apns-id": apns_id})
    assert response.http_version == "HTTP/2"
    assert response.status_code == 200
    assert response.headers["apns-id"] == apns_id
    assert response.content == b""
    [line] = sandbox.received("apns")
    assert line["target"] == DEVICE and line["payload"] == ALERT and line["status"] == 200
    assert line["headers"]["authorization"] == "Bearer …"


def test_apns_makes_an_apns_id_when_the_request_has_none(sandbox, retail, apns):
    response = push(apns, DEVICE, provider_token(retail.apns_credential))
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}", response.headers["apns-id"])


@pytest.mark.parametrize(
    "prefix, status, reason",
    [
        ("dead", 410, "Unregistered"),
        ("bad0", 400, "BadDeviceToken"),
        ("f00d", 429, "TooManyRequests"),
        ("fa11", 503, "ServiceUnavailable"),
    ],
)
def test_apns_injects_the_failure_a_token_prefix_names(
    sandbox, retail, apns, prefix, status, reason
):
    response = push(apns, prefix + "0" * 60, provider_token(retail.apns_credential))
    assert response.status_code == status
    assert response.json()["reason"] == reason
    assert "apns-id" in response.headers
    assert sandbox.received("apns")[-1]["status"] == status


def test_apns_says_when_an_unregistered_token_was_last_valid(retail, apns):
    before = int(time.time() * 1000)
    response = push(apns, "dead" + "0" * 60, provider_token(retail.apns_credential))
    assert response.status_code == 410
    assert before <= response.json()["timestamp"] <= int(time.time() * 1000)


def test_apns_fails_a_flaky_token_twice_then_delivers(retail, apns):
    token = provider_token(retail.apns_credential)
    statuses = [push(apns, "c0de" + "1" * 60, token).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert push(apns, "c0de" + "2" * 60, token).status_code == 500  # counted per token


def test_apns_answers_a_slow_token_after_two_seconds(retail, apns):
    started = time.monotonic()
    response = push(apns, "5105" + "0" * 60, provider_token(retail.apns_credential))
    assert response.status_code == 200
    assert time.monotonic() - started >= 2


def test_apns_refuses_a_token_signed_by_another_key(retail, apns):
    other_key = sample_credentials.p8_signing_key().decode()
    response = push(apns, DEVICE, provider_token(retail.apns_credential, key=other_key))
    assert (response.status_code, response.json()) == (403, {"reason": "InvalidProviderToken"})


def test_apns_refuses_a_provider_token_older_than_an_hour(retail, apns):
    old = int(time.time()) - 3601
    response = push(apns, DEVICE, provider_token(retail.apns_credential, issued_at=old))
    assert (response.status_code, response.json()) == (403, {"reason": "ExpiredProviderToken"})


def test_apns_refuses_an_unknown_key_id(retail, apns):
    credential = retail.apns_credential
    credential.key_id = "UNKNOWN123"  # not saved: the gateway knows the stored key id only
    response = push(apns, DEVICE, provider_token(credential))
    assert (response.status_code, response.json()) == (403, {"reason": "InvalidProviderToken"})


def test_apns_refuses_a_request_without_provider_token(retail, apns):
    response = push(apns, DEVICE, None)
    assert (response.status_code, response.json()) == (403, {"reason": "MissingProviderToken"})


def test_apns_refuses_a_topic_that_is_not_the_apps_bundle_id(retail, apns):
    token = provider_token(retail.apns_credential)
    assert push(apns, DEVICE, token, topic="com.contoso.voip").json() == {
        "reason": "TopicDisallowed"
    }
    assert push(apns, DEVICE, token, topic=f"{TOPIC}.voip").status_code == 200


@pytest.mark.parametrize(
    "device, headers, payload, status, reason",
    [
        ("not-hex" * 10, {}, ALERT, 400, "BadDeviceToken"),
        (DEVICE, {"apns-push-type": "shout"}, ALERT, 400, "InvalidPushType"),
        (DEVICE, {"apns-priority": "7"}, ALERT, 400, "BadPriority"),
        (DEVICE, {"apns-id": "not-a-uuid"}, ALERT, 400, "BadMessageId"),
        (DEVICE, {"apns-collapse-id": "x" * 65}, ALERT, 400, "BadCollapseId"),
        (DEVICE, {}, b"", 400, "PayloadEmpty"),
        (DEVICE, {}, {"aps": {}, "pad": "x" * 4096}, 413, "PayloadTooLarge"),
    ],
)
def test_apns_refuses_what_apple_refuses(retail, apns, device, headers, payload, status, reason):
    token = provider_token(retail.apns_credential)
    response = push(apns, device, token, payload=payload, **headers)
    assert (response.status_code, response.json()) == (status, {"reason": reason})


BACKGROUND = {"aps": {"content-available": 1}, "sync": "inbox"}


@pytest.mark.parametrize(
    "headers, payload",
    [
        ({"apns-push-type": "background", "apns-priority": "5"}, BACKGROUND),
        ({"apns-push-type": "alert"}, {"aps": {"badge": 0}}),
        ({"apns-push-type": "alert"}, {"aps": {"sound": "default"}}),
        (
            {"apns-push-type": "alert"},
            {"aps": {"alert": "Hi", "interruption-level": "critical", "relevance-score": 1}},
        ),
    ],
)
def test_apns_accepts_the_documented_shapes_of_each_push_type(retail, apns, headers, payload):
    token = provider_token(retail.apns_credential)
    assert push(apns, DEVICE, token, payload=payload, **headers).status_code == 200


# Apple's "Pushing background updates to your App" (background: content-available 1 only, at
# priority 5) and "Generating a remote notification" (the aps values); BadPayload is ours.
@pytest.mark.parametrize(
    "headers, payload, reason",
    [
        ({"apns-push-type": "background", "apns-priority": "10"}, BACKGROUND, "BadPriority"),
        ({"apns-push-type": "background"}, BACKGROUND, "BadPriority"),
        (
            {"apns-push-type": "background", "apns-priority": "5"},
            {"aps": {"content-available": 1, "alert": "Hi"}},
            "InvalidPushType",
        ),
        (
            {"apns-push-type": "background", "apns-priority": "5"},
            {"aps": {"content-available": 1, "sound": "default"}},
            "InvalidPushType",
        ),
        (
            {"apns-push-type": "background", "apns-priority": "5"},
            {"aps": {"content-available": 1, "badge": 1}},
            "InvalidPushType",
        ),
        ({"apns-push-type": "background", "apns-priority": "5"}, {"aps": {}}, "InvalidPushType"),
        ({"apns-push-type": "alert"}, {"aps": {}}, "InvalidPushType"),
        ({"apns-push-type": "alert"}, {"sync": "inbox"}, "InvalidPushType"),
        ({}, {"aps": {"alert": "Hi", "interruption-level": "urgent"}}, "BadPayload"),
        ({}, {"aps": {"alert": "Hi", "relevance-score": 1.5}}, "BadPayload"),
        ({}, {"aps": {"alert": "Hi", "relevance-score": "high"}}, "BadPayload"),
        ({}, {"aps": {"alert": "Hi", "content-available": 0}}, "BadPayload"),
        ({}, {"aps": "Hi"}, "BadPayload"),
    ],
)
def test_apns_refuses_a_payload_that_does_not_match_its_push_type(
    retail, apns, headers, payload, reason
):
    token = provider_token(retail.apns_credential)
    response = push(apns, DEVICE, token, payload=payload, **headers)
    assert (response.status_code, response.json()) == (400, {"reason": reason})


def test_apns_speaks_only_http2(sandbox, retail):
    verify = tls(sandbox.ca_bundle)
    with httpx.Client(http2=False, verify=verify, base_url=sandbox.apns_url) as client:
        response = push(client, DEVICE, provider_token(retail.apns_credential))
    assert response.status_code == 505


@pytest.fixture
def certificate_app(organization, tmp_path):
    """An app with APNs certificate authentication, and its certificate as PEM files."""
    app = MobileApp.objects.create(organization=organization, name="kiosk", display_name="Kiosk")
    p12 = sample_credentials.p12_certificate("com.contoso.kiosk", "pass")
    credential = ApnsCredential(
        app=app, auth_method=ApnsCredential.AuthMethod.CERTIFICATE, bundle_id="com.contoso.kiosk"
    )
    credential.store_secret({"certificate_p12": p12.hex(), "certificate_password": "pass"})
    credential.save()
    key, certificate, _ = pkcs12.load_key_and_certificates(p12, b"pass")
    return app, _write_pem_pair(tmp_path / "kiosk", key, certificate)


def _write_pem_pair(stem: Path, key, certificate) -> tuple[Path, Path]:
    certificate_file, key_file = stem.with_suffix(".pem"), stem.with_suffix(".key")
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_file, key_file


def test_apns_accepts_a_known_client_certificate_for_its_own_topic(sandbox, certificate_app):
    _, pem_pair = certificate_app
    context = tls(sandbox.ca_bundle, pem_pair)
    with httpx.Client(http2=True, verify=context, base_url=sandbox.apns_url) as client:
        assert push(client, DEVICE, None, topic="com.contoso.kiosk").status_code == 200
        refused = push(client, DEVICE, None, topic=TOPIC)
    assert (refused.status_code, refused.json()) == (400, {"reason": "DeviceTokenNotForTopic"})


def test_apns_refuses_an_unknown_client_certificate_in_the_handshake(sandbox, tmp_path):
    p12 = sample_credentials.p12_certificate("com.example.stranger", "")
    key, certificate, _ = pkcs12.load_key_and_certificates(p12, None)
    context = tls(sandbox.ca_bundle, _write_pem_pair(tmp_path / "stranger", key, certificate))
    with httpx.Client(http2=True, verify=context, base_url=sandbox.apns_url) as client:
        with pytest.raises(httpx.TransportError):
            push(client, DEVICE, None, topic="com.example.stranger")


def test_apns_carries_hundreds_of_concurrent_streams(sandbox, retail):
    token = provider_token(retail.apns_credential)

    async def send_all() -> list[int]:
        async with httpx.AsyncClient(
            http2=True, verify=tls(sandbox.ca_bundle), base_url=sandbox.apns_url, timeout=30
        ) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        f"/3/device/{n:064x}",
                        json=ALERT,
                        headers={
                            "authorization": f"bearer {token}",
                            "apns-topic": TOPIC,
                            "apns-push-type": "alert",
                        },
                    )
                    for n in range(300)
                )
            )
        return [r.status_code for r in responses]

    assert asyncio.run(send_all()) == [200] * 300
    lines = sandbox.received("apns")
    assert sorted(line["target"] for line in lines) == [f"{n:064x}" for n in range(300)]


# FCM ------------------------------------------------------------------------------------------


def assertion(credential: FcmCredential, *, key: str | None = None, **claims: object) -> str:
    account = json.loads(credential.read_secret()["service_account"])
    now = int(time.time())
    body = {
        "iss": account["client_email"],
        "scope": FCM_SCOPE,
        "aud": FCM_AUDIENCE,
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    signing_key = key or account["private_key"]
    return jwt.encode(body, signing_key, algorithm="RS256", headers={"kid": "0" * 40})


@pytest.fixture
def fcm(sandbox):
    with httpx.Client(http2=True, verify=tls(sandbox.ca_bundle), timeout=10) as client:
        yield client


def fcm_token(sandbox, fcm: httpx.Client, credential: FcmCredential, **claims) -> httpx.Response:
    return fcm.post(
        sandbox.fcm_token_url,
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": assertion(credential, **claims),
        },
    )


def fcm_send(sandbox, fcm, access_token, message, *, project="contoso-retail", **body):
    return fcm.post(
        f"{sandbox.fcm_url}/v1/projects/{project}/messages:send",
        json={"message": message, **body},
        headers={"authorization": f"Bearer {access_token}"} if access_token else {},
    )


@pytest.fixture
def access_token(sandbox, fcm, retail) -> str:
    return fcm_token(sandbox, fcm, retail.fcm_credential).json()["access_token"]


def test_fcm_grants_a_token_for_a_signed_assertion_and_delivers_with_it(sandbox, fcm, retail):
    granted = fcm_token(sandbox, fcm, retail.fcm_credential)
    assert granted.status_code == 200
    assert granted.json()["expires_in"] == 3599 and granted.json()["token_type"] == "Bearer"
    message = {"token": "device-1", "data": {"tracking_id": "t-1"}, "android": {"ttl": "60s"}}
    sent = fcm_send(sandbox, fcm, granted.json()["access_token"], message)
    assert sent.status_code == 200
    assert re.fullmatch(r"projects/contoso-retail/messages/0:\d+%[0-9a-f]{16}", sent.json()["name"])
    token_line, send_line = sandbox.received()
    assert token_line["provider"] == "fcm-token" and token_line["status"] == 200
    assert send_line["target"] == "device-1" and send_line["payload"]["message"] == message


def test_fcm_validates_only_when_asked(sandbox, fcm, access_token):
    sent = fcm_send(sandbox, fcm, access_token, {"token": "device-1"}, validate_only=True)
    assert sent.json() == {"name": "projects/contoso-retail/messages/fake_message_id"}
    assert sandbox.received("fcm")[-1]["validate_only"] is True


def test_fcm_token_endpoint_speaks_http1_too(sandbox, retail):
    with httpx.Client(http2=False, verify=tls(sandbox.ca_bundle)) as client:
        granted = fcm_token(sandbox, client, retail.fcm_credential)
    assert granted.http_version == "HTTP/1.1" and granted.status_code == 200


@pytest.mark.parametrize(
    "claims, error, description",
    [
        ({"key": "other"}, "invalid_grant", "Invalid JWT Signature."),
        ({"aud": "https://example.com/token"}, "invalid_grant", "Failed audience check"),
        ({"iss": "nobody@x.iam.gserviceaccount.com"}, "invalid_grant", "account not found"),
        ({"iat": int(time.time()) - 7200}, "invalid_grant", "short-lived token"),
        ({"scope": "https://www.googleapis.com/auth/userinfo.email"}, "invalid_scope", "scope"),
    ],
)
def test_fcm_refuses_a_bad_assertion_as_google_does(
    sandbox, fcm, retail, claims, error, description
):
    if claims.get("key") == "other":
        other = json.loads(sample_credentials.service_account("contoso-retail"))
        claims = {"key": other["private_key"]}
    refused = fcm_token(sandbox, fcm, retail.fcm_credential, **claims)
    assert refused.status_code == 400
    assert refused.json()["error"] == error
    assert description in refused.json()["error_description"]


def test_fcm_refuses_unknown_missing_and_expired_access_tokens(sandbox, fcm, access_token):
    for token in (None, "ya29.made-up"):
        refused = fcm_send(sandbox, fcm, token, {"token": "device-1"})
        assert refused.status_code == 401
        assert refused.json()["error"]["status"] == "UNAUTHENTICATED"
        assert refused.json()["error"]["code"] == 401
    assert fcm_send(sandbox, fcm, access_token, {"token": "device-1"}).status_code == 200
    sandbox.expire_access_tokens()
    assert fcm_send(sandbox, fcm, access_token, {"token": "device-1"}).status_code == 401


def test_fcm_refuses_a_token_issued_for_another_project(sandbox, fcm, access_token):
    refused = fcm_send(sandbox, fcm, access_token, {"token": "device-1"}, project="other")
    assert refused.status_code == 403
    assert refused.json()["error"]["status"] == "PERMISSION_DENIED"


@pytest.mark.parametrize(
    "prefix, status, rpc_status, error_code, message",
    [
        ("dead-", 404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found."),
        (
            "bad-",
            400,
            "INVALID_ARGUMENT",
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
        ),
        ("busy-", 429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", None),
        ("fail-", 503, "UNAVAILABLE", "UNAVAILABLE", None),
    ],
)
def test_fcm_injects_the_failure_a_token_prefix_names(
    sandbox, fcm, access_token, prefix, status, rpc_status, error_code, message
):
    refused = fcm_send(sandbox, fcm, access_token, {"token": f"{prefix}device"})
    error = refused.json()["error"]
    assert refused.status_code == status == error["code"]
    assert error["status"] == rpc_status
    assert error["details"] == [
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code}
    ]
    if message:
        assert error["message"] == message
    if prefix == "busy-":
        assert refused.headers["retry-after"] == "1"


def test_fcm_fails_a_flaky_token_twice_then_delivers(sandbox, fcm, access_token):
    statuses = [
        fcm_send(sandbox, fcm, access_token, {"token": "flaky-1"}).status_code for _ in range(3)
    ]
    assert statuses == [503, 503, 200]


def test_fcm_answers_a_slow_token_after_two_seconds(sandbox, fcm, access_token):
    started = time.monotonic()
    assert fcm_send(sandbox, fcm, access_token, {"token": "slow-1"}).status_code == 200
    assert time.monotonic() - started >= 2


@pytest.mark.parametrize(
    "message, text",
    [
        ({"data": {"a": "b"}}, "Recipient of the message is not set."),
        ({"token": "d", "data": {"count": 3}}, "Invalid value at 'message.data[0].value'"),
        ({"token": "d", "android": {"ttl": "an hour"}}, "message.android.ttl"),
        ({"token": "d", "data": {"blob": "x" * 4100}}, "Android message is too big"),
    ],
)
def test_fcm_refuses_a_malformed_message(sandbox, fcm, access_token, message, text):
    refused = fcm_send(sandbox, fcm, access_token, message)
    assert refused.status_code == 400
    assert refused.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert text in refused.json()["error"]["message"]


def test_fcm_delivers_a_data_only_message_at_normal_priority(sandbox, fcm, access_token):
    message = {"token": "d", "data": {"sync": "inbox"}, "android": {"priority": "normal"}}
    assert fcm_send(sandbox, fcm, access_token, message).status_code == 200


@pytest.mark.parametrize("count", [3, "3"])
def test_fcm_takes_notification_count_as_an_int32_in_either_json_form(
    sandbox, fcm, access_token, count
):
    android = {"notification": {"notification_count": count, "tag": "offers"}}
    sent = fcm_send(sandbox, fcm, access_token, {"token": "d", "android": android})
    assert sent.status_code == 200


@pytest.mark.parametrize(
    "android, text",
    [
        ({"priority": "urgent"}, "message.android.priority"),
        ({"notification": {"notification_count": 2.5}}, "notification_count"),
        ({"notification": {"notification_count": True}}, "notification_count"),
        ({"notification": {"tag": 7}}, "message.android.notification.tag"),
        ({"notification": "shown"}, "message.android.notification"),
    ],
)
def test_fcm_refuses_a_malformed_android_config(sandbox, fcm, access_token, android, text):
    refused = fcm_send(sandbox, fcm, access_token, {"token": "d", "android": android})
    assert refused.status_code == 400
    assert refused.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert text in refused.json()["error"]["message"]


# WNS ------------------------------------------------------------------------------------------


@pytest.fixture
def wns(sandbox):
    with httpx.Client(http2=True, verify=tls(sandbox.ca_bundle), timeout=10) as client:
        yield client


def wns_token(
    sandbox, wns, credential: WnsCredential, *, tenant: str | None = None, **fields: str
) -> httpx.Response:
    form = {
        "grant_type": "client_credentials",
        "client_id": credential.client_id,
        "client_secret": credential.read_secret()["client_secret"],
        "scope": WNS_SCOPE,
        **fields,
    }
    url = f"{sandbox.wns_token_url}/{tenant or credential.tenant_id}/oauth2/v2.0/token"
    return wns.post(url, data=form)


@pytest.fixture
def wns_access_token(sandbox, wns, news) -> str:
    return wns_token(sandbox, wns, news.wns_credential).json()["access_token"]


def notify(wns, channel_uri, access_token, body=TOAST, kind="wns/toast", content_type="text/xml"):
    headers = {"x-wns-type": kind, "content-type": content_type}
    if access_token:
        headers["authorization"] = f"Bearer {access_token}"
    return wns.post(
        channel_uri, content=body.encode() if isinstance(body, str) else body, headers=headers
    )


def test_wns_grants_a_token_for_the_apps_secret_and_delivers_a_toast(sandbox, wns, news):
    granted = wns_token(sandbox, wns, news.wns_credential)
    assert granted.status_code == 200
    assert granted.json()["token_type"] == "Bearer" and granted.json()["expires_in"] == 86399
    channel = sandbox.channel_uri("AwYAAABa5cJ3%2fQAhYE")
    delivered = notify(wns, channel, granted.json()["access_token"])
    assert delivered.status_code == 200
    assert delivered.headers["x-wns-status"] == "received"
    assert re.fullmatch(r"[0-9A-F]{16}", delivered.headers["x-wns-msg-id"])
    assert delivered.headers["x-wns-debug-trace"]
    line = sandbox.received("wns")[-1]
    assert line["target"] == channel and line["payload"] == TOAST and line["status"] == 200


def test_wns_delivers_raw_notifications_as_octet_stream(sandbox, wns, wns_access_token):
    raw = b'{ Sync: "Hello from the Contoso App Service" }'
    delivered = notify(
        wns,
        sandbox.channel_uri("raw-1"),
        wns_access_token,
        raw,
        "wns/raw",
        "application/octet-stream",
    )
    assert delivered.status_code == 200


@pytest.mark.parametrize(
    "fields, status, error",
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "99999999-9999-4999-8999-999999999999"}, 400, "unauthorized_client"),
        ({"tenant": "99999999-9999-4999-8999-999999999999"}, 400, "invalid_request"),
        ({"scope": "https://graph.microsoft.com/.default"}, 400, "invalid_scope"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
def test_wns_refuses_a_bad_token_request_as_azure_ad_does(
    sandbox, wns, news, fields, status, error
):
    refused = wns_token(sandbox, wns, news.wns_credential, **fields)
    assert refused.status_code == status
    assert refused.json()["error"] == error
    assert refused.json()["error_description"].startswith("AADSTS")


def legacy_token(sandbox, wns, **fields: str) -> httpx.Response:
    """Ask the Live endpoint of the Package SID flow for store's token, fields overriding."""
    form = {
        "grant_type": "client_credentials",
        "client_id": PACKAGE_SID,
        "client_secret": "store-client-secret-value",
        "scope": "notify.windows.com",
        **fields,
    }
    return wns.post(sandbox.wns_legacy_token_url, data={k: v for k, v in form.items() if v})


def test_wns_grants_a_package_sid_token_that_its_channels_accept(sandbox, wns, store):
    granted = legacy_token(sandbox, wns)

    assert granted.status_code == 200
    assert granted.json()["token_type"] == "bearer" and granted.json()["expires_in"] == 86400
    delivered = notify(wns, sandbox.channel_uri("c-1"), granted.json()["access_token"])
    assert delivered.status_code == 200
    [line] = sandbox.received("wns-token")
    assert "client_secret" not in line["payload"]


@pytest.mark.parametrize(
    ("fields", "error", "description"),
    [
        ({"client_secret": "wrong"}, "invalid_client", "Invalid client secret"),
        ({"client_id": PACKAGE_SID + "1"}, "invalid_client", "Invalid client id"),
        ({"scope": "https://wns.windows.com/.default"}, "invalid_scope", "'scope'"),
        ({"scope": "notify.windows.com extra"}, "invalid_scope", "'scope'"),
        ({"grant_type": "password"}, "unsupported_grant_type", "grant type"),
        ({"client_secret": ""}, "invalid_request", "'client_secret'"),
        ({"client_id": ""}, "invalid_request", "'client_id'"),
    ],
    ids=["wrong-secret", "unknown-sid", "aad-scope", "extra-scope", "grant", "no-secret", "no-id"],
)
def test_wns_refuses_a_bad_package_sid_token_request_as_the_live_endpoint_does(
    sandbox, wns, store, fields, error, description
):
    refused = legacy_token(sandbox, wns, **fields)

    assert refused.status_code == 400
    assert refused.json()["error"] == error
    assert description in refused.json()["error_description"]


def test_wns_knows_no_package_sid_at_an_azure_ad_tenant(sandbox, wns, store, news):
    refused = wns_token(sandbox, wns, news.wns_credential, client_id=PACKAGE_SID)
    assert (refused.status_code, refused.json()["error"]) == (400, "unauthorized_client")


def test_wns_refuses_an_unknown_access_token(sandbox, wns, news):
    refused = notify(wns, sandbox.channel_uri("c-1"), "EwB.made-up")
    assert refused.status_code == 401
    assert "x-wns-error-description" in refused.headers


@pytest.mark.parametrize(
    "body, kind, content_type, status",
    [
        (TOAST, "wns/toast", "application/octet-stream", 400),
        (TOAST, "wns/shout", "text/xml", 400),
        ("<toast><visual>", "wns/toast", "text/xml", 400),
        ('<badge value="1"/>', "wns/toast", "text/xml", 400),
        ('<!DOCTYPE toast [<!ENTITY a "aa">]><toast>&a;</toast>', "wns/toast", "text/xml", 400),
        ('<badge value="1"/>', "wns/badge", "text/xml", 200),
        ("<tile>" + "x" * 5200 + "</tile>", "wns/tile", "text/xml", 413),
        # Microsoft's "Badge notifications for Windows apps": a number or a documented glyph.
        ('<badge value="0"/>', "wns/badge", "text/xml", 200),
        ('<badge value="120"/>', "wns/badge", "text/xml", 200),
        ('<badge value="newMessage"/>', "wns/badge", "text/xml", 200),
        ('<badge value="sparkles"/>', "wns/badge", "text/xml", 400),
        ('<badge value="NEWMESSAGE"/>', "wns/badge", "text/xml", 400),
        ('<badge value=""/>', "wns/badge", "text/xml", 400),
        ("<badge/>", "wns/badge", "text/xml", 400),
        ('<badge value="1"/>', "wns/badge", "application/octet-stream", 400),
        # "Raw notification overview": app-defined bytes, as application/octet-stream, 5 KB.
        ('{"sync":"inbox"}', "wns/raw", "application/octet-stream", 200),
        ('{"sync":"inbox"}', "wns/raw", "text/xml", 400),
        ("", "wns/raw", "application/octet-stream", 400),
        ("x" * 5000, "wns/raw", "application/octet-stream", 200),
        ("x" * 5001, "wns/raw", "application/octet-stream", 413),
    ],
)
def test_wns_checks_type_content_type_xml_and_size(
    sandbox, wns, wns_access_token, body, kind, content_type, status
):
    answered = notify(wns, sandbox.channel_uri("c-1"), wns_access_token, body, kind, content_type)
    assert answered.status_code == status


@pytest.mark.parametrize(
    "prefix, status",
    [("expired", 410), ("gone", 404), ("throttled", 406), ("busy", 429), ("fail", 503)],
)
def test_wns_injects_the_failure_a_channel_prefix_names(
    sandbox, wns, wns_access_token, prefix, status
):
    refused = notify(wns, sandbox.channel_uri(f"{prefix}-channel"), wns_access_token)
    assert refused.status_code == status
    assert refused.headers["x-wns-error-description"]
    if prefix == "busy":
        assert refused.headers["retry-after"] == "1"


def test_wns_fails_a_flaky_channel_twice_then_delivers(sandbox, wns, wns_access_token):
    channel = sandbox.channel_uri("flaky-1")
    statuses = [notify(wns, channel, wns_access_token).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]


def test_wns_answers_a_slow_channel_after_two_seconds(sandbox, wns, wns_access_token):
    started = time.monotonic()
    assert notify(wns, sandbox.channel_uri("slow-1"), wns_access_token).status_code == 200
    assert time.monotonic() - started >= 2


# The record and the fixture -------------------------------------------------------------------


def test_the_record_keeps_every_request_and_no_secret(
    sandbox, retail, news, apns, fcm, wns, access_token, wns_access_token
):
    jwt_token = provider_token(retail.apns_credential)
    push(apns, DEVICE, jwt_token)
    fcm_send(sandbox, fcm, access_token, {"token": "device-1"})
    notify(wns, sandbox.channel_uri("c-1"), wns_access_token)
    text = Path(sandbox.gateways.recorder.path).read_text()
    lines = sandbox.received()
    assert [line["provider"] for line in lines] == ["fcm-token", "wns-token", "apns", "fcm", "wns"]
    assert all(line["status"] == 200 and line["at"] for line in lines)
    secrets = [jwt_token, access_token, wns_access_token, "wns-client-secret-value"]
    secrets.append(
        json.loads(retail.fcm_credential.read_secret()["service_account"])["private_key"][40:80]
    )
    for secret in secrets:
        assert secret not in text
    # No JWT at all, neither the provider token nor the assertion: three base64url parts, the
    # first a JSON object ("eyJ"). A bare "eyJ" can occur by chance in a signed tracking id.
    assert not re.search(r"eyJ[\w-]*\.[\w-]+\.[\w-]+", text)
    assert "assertion" not in lines[0]["payload"] and "client_secret" not in lines[1]["payload"]
    assert {line["headers"].get("authorization") for line in lines[2:]} == {"Bearer …"}


def test_the_fixture_learns_credentials_saved_after_it_started(sandbox, organization, apns):
    app = MobileApp.objects.create(organization=organization, name="late", display_name="Late")
    credential = ApnsCredential(
        app=app, key_id="LATEKEY001", team_id="TEAM123456", bundle_id="com.contoso.late"
    )
    credential.store_secret({"signing_key": sample_credentials.p8_signing_key().decode()})
    credential.save()
    assert (
        push(apns, DEVICE, provider_token(credential), topic="com.contoso.late").status_code == 200
    )


def test_the_fixture_points_the_provider_settings_at_the_gateways(sandbox, settings):
    assert settings.APNS_PRODUCTION_URL == settings.APNS_DEVELOPMENT_URL == sandbox.apns_url
    assert settings.FCM_URL == sandbox.fcm_url and settings.FCM_TOKEN_URL == sandbox.fcm_token_url
    assert settings.WNS_TOKEN_URL == sandbox.wns_token_url
    assert sandbox.wns_host in settings.WNS_HOSTS
    assert Path(settings.CA_BUNDLE).read_text().startswith("-----BEGIN CERTIFICATE-----")


# Certificates, the database path and the command ----------------------------------------------


def test_tls_material_is_made_once_with_private_keys_readable_only_by_the_owner(tmp_path):
    first = ensure_certificates(tmp_path)
    ca_before = first.ca.read_bytes()
    second = ensure_certificates(tmp_path)
    assert second.ca.read_bytes() == ca_before and first == second
    for key in (tmp_path / "ca-key.pem", first.key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    certificate = x509.load_pem_x509_certificate(first.certificate.read_bytes())
    certificate.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_before))
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in {str(a) for a in names.get_values_for_type(x509.IPAddress)}


@pytest.mark.django_db(transaction=True)
def test_gateways_reading_the_database_accept_stored_credentials_and_replaced_keys(
    retail, news, store, tmp_path
):
    gateways = SandboxGateways(tmp_path, CredentialDirectory(database=True))
    thread = GatewayThread(gateways)
    thread.start()
    try:
        context = tls(gateways.certificates.ca)
        with httpx.Client(http2=True, verify=context, timeout=10) as client:
            apns_url = f"{gateways.url('apns')}/3/device/{DEVICE}"
            credential = retail.apns_credential

            def accepted(token: str) -> bool:
                headers = {"apns-topic": TOPIC, "apns-push-type": "alert"}
                headers["authorization"] = f"bearer {token}"
                return client.post(apns_url, json=ALERT, headers=headers).status_code == 200

            assert accepted(provider_token(credential))
            credential.store_secret({"signing_key": sample_credentials.p8_signing_key().decode()})
            credential.save()
            token = provider_token(credential)
            # Refused until the key cached by the first request is old enough to be looked up again
            # (directory.REFRESH_AT_MOST_EVERY).
            wait_for(
                lambda: accepted(token),
                10,
                "the gateway accepts a token signed by the replaced key",
            )

            fcm_credential = retail.fcm_credential
            fcm_credential.client_email = json.loads(
                fcm_credential.read_secret()["service_account"]
            )["client_email"]
            fcm_credential.save()
            granted = client.post(
                f"{gateways.url('fcm')}/token",
                data={
                    "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                    "assertion": assertion(fcm_credential),
                },
            )
            assert granted.status_code == 200

            wns_credential = news.wns_credential
            granted = client.post(
                f"{gateways.url('wns')}/{wns_credential.tenant_id}/oauth2/v2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": wns_credential.client_id,
                    "client_secret": "wns-client-secret-value",
                    "scope": WNS_SCOPE,
                },
            )
            assert granted.status_code == 200

            granted = client.post(
                f"{gateways.url('wns')}/accesstoken.srf",
                data={
                    "grant_type": "client_credentials",
                    "client_id": PACKAGE_SID,
                    "client_secret": "store-client-secret-value",
                    "scope": "notify.windows.com",
                },
            )
            assert granted.status_code == 200
    finally:
        thread.stop()


def test_the_command_serves_until_ctrl_c(tmp_path):
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("PUSHCENTER_", "DATABASE_URL"))
    }
    environment["PUSHCENTER_VAR_DIR"] = str(tmp_path)
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "sandbox_gateways",
            "--apns-port",
            "0",
            "--fcm-port",
            "0",
            "--wns-port",
            "0",
            "--dir",
            str(tmp_path / "sandbox"),
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        banner = _read_until(process, "Press Ctrl-C to stop.")
        apns_url = re.search(r"APNs\s+(https://localhost:\d+)", banner)[1]
        ca = re.search(r"CA certificate: (\S+)", banner)[1]
        assert ca == str(tmp_path / "sandbox" / "ca.pem")
        with httpx.Client(http2=True, verify=tls(ca)) as client:
            answered = client.post(f"{apns_url}/3/device/{DEVICE}", json=ALERT)
        assert (answered.status_code, answered.json()) == (403, {"reason": "MissingProviderToken"})
        assert json.loads((tmp_path / "sandbox" / "received.jsonl").read_text())["status"] == 403
    finally:
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Sandbox gateways stopped." in output
    with pytest.raises(httpx.ConnectError):
        httpx.get(apns_url, verify=tls(ca), timeout=2)


def _read_until(process: subprocess.Popen, marker: str, timeout: float = 60) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError("the command ended early:\n" + "".join(seen))
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError("the command did not start:\n" + "".join(seen))

"""The FCM HTTP v1 client over real sockets.

Most tests talk to the sandbox's FCM look-alike (tests/sandbox.py); its failure prefixes pick the
answer: dead- UNREGISTERED, bad- invalid token, busy- QUOTA_EXCEEDED, fail- UNAVAILABLE, flaky-
UNAVAILABLE twice then 200. The few answers the sandbox never gives (SENDER_ID_MISMATCH,
THIRD_PARTY_AUTH_ERROR, INTERNAL, a 401 that survives a fresh token, a redirect) come from
`google`, a plain-HTTP server on loopback that answers what a test sets.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from devices import sample_credentials
from devices.models import FcmCredential
from devices.providers import fcm as fcm_provider
from devices.providers.base import Outcome, ProviderError, Push
from devices.providers.fcm import FcmClient
from devices.providers.fcm import render as render_fcm
from devices.providers.message import Message
from devices.providers.transport import Transport
from tests.waiting import ManualClock

pytest_plugins = ["tests.sandbox"]


def push(token: str, key: str = "") -> Push:
    payload = render_fcm(Message(title="Sale", body="50% off", tracking_id="t-1"), token)
    return Push(key or token, token, payload.body, payload.headers)


def raw_push(message: dict[str, Any], key: str = "raw") -> Push:
    body = json.dumps({"message": message}).encode()
    return Push(key, str(message.get("token", "")), body, {"Content-Type": "application/json"})


@pytest.fixture
def client(sandbox, retail):
    fcm = FcmClient(retail.fcm_credential.for_client())
    yield fcm
    fcm.close()


@pytest.fixture
def token_clock(monkeypatch) -> ManualClock:
    """The clock the access token cache reads, moved on by the test."""
    clock = ManualClock()
    monkeypatch.setattr(fcm_provider._TOKENS, "clock", clock)
    return clock


def unknown_credential(app) -> FcmCredential:
    """A service account Google has never heard of (unsaved, so the sandbox never learns it)."""
    credential = FcmCredential(
        app=app, project_id="contoso-retail", client_email=app.fcm_credential.client_email
    )
    credential.store_secret(
        {"service_account": sample_credentials.service_account("contoso-retail").decode()}
    )
    return credential


# Delivery ----------------------------------------------------------------------------------


def test_it_delivers_the_rendered_message_and_keeps_its_name(client, sandbox):
    sent = push("device-1", key="delivery-1")

    [result] = client.send([sent])

    assert result.outcome == Outcome.SENT
    assert result.key == "delivery-1"
    assert result.status == 200
    assert result.provider_id.startswith("projects/contoso-retail/messages/0:")
    [line] = sandbox.received("fcm")
    assert line["payload"] == json.loads(sent.body)  # the body goes out as rendered
    assert line["target"] == "device-1"
    assert line["headers"]["authorization"] == "Bearer …"
    assert line["headers"]["content-type"] == "application/json"


def test_it_asks_google_with_a_signed_assertion_for_the_messaging_scope(client, sandbox, retail):
    client.send([push("device-1")])

    [line] = sandbox.received("fcm-token")
    assert line["status"] == 200
    assert line["payload"]["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert line["payload"]["claims"] == {
        "iss": "push-center@contoso-retail.iam.gserviceaccount.com",
        "aud": "https://oauth2.googleapis.com/token",
        "scope": "https://www.googleapis.com/auth/firebase.messaging",
    }


def test_it_answers_an_empty_send_without_asking_google(client, sandbox):
    assert client.send([]) == []
    assert sandbox.received() == []


def test_it_answers_hundreds_of_messages_in_one_send_in_order(client, sandbox):
    tokens = [f"dead-{n}" if n % 10 == 0 else f"device-{n}" for n in range(600)]

    results = client.send([push(token) for token in tokens])

    assert [r.key for r in results] == tokens
    assert all(
        r.outcome == (Outcome.DEVICE_GONE if r.key.startswith("dead-") else Outcome.SENT)
        for r in results
    )
    assert len({r.provider_id for r in results if r.outcome == Outcome.SENT}) == 540
    assert len(sandbox.received("fcm")) == 600
    assert len(sandbox.received("fcm-token")) == 1


# Classification by the sandbox -------------------------------------------------------------


def test_it_retires_device_on_unregistered(client):
    [result] = client.send([push("dead-phone")])

    assert result.outcome == Outcome.DEVICE_GONE
    assert (result.status, result.reason) == (404, "UNREGISTERED")
    assert result.detail == "Requested entity was not found."


def test_it_retires_device_on_an_invalid_registration_token(client):
    [result] = client.send([push("bad-token")])

    assert result.outcome == Outcome.DEVICE_GONE
    assert (result.status, result.reason) == (400, "INVALID_ARGUMENT")
    assert "not a valid FCM registration token" in result.detail


def test_it_fails_only_the_message_on_another_invalid_argument(client):
    [result] = client.send([raw_push({"token": "device-1", "data": {"count": 3}})])

    assert result.outcome == Outcome.MESSAGE_FAILED
    assert (result.status, result.reason) == (400, "INVALID_ARGUMENT")
    assert "message.data" in result.detail


def test_it_fails_only_the_message_when_it_is_too_big(client):
    [result] = client.send([raw_push({"token": "device-1", "data": {"blob": "x" * 5000}})])

    assert result.outcome == Outcome.MESSAGE_FAILED
    assert result.detail == "Android message is too big"


def test_it_retries_quota_exceeded_after_retry_after(client):
    [result] = client.send([push("busy-device")])

    assert result.outcome == Outcome.RETRY
    assert (result.status, result.reason) == (429, "QUOTA_EXCEEDED")
    assert result.retry_after == 1.0


def test_it_retries_unavailable(client):
    [result] = client.send([push("fail-device")])

    assert result.outcome == Outcome.RETRY
    assert (result.status, result.reason) == (503, "UNAVAILABLE")
    assert result.retry_after is None


def test_it_leaves_retries_to_the_caller(client, sandbox):
    outcomes = [client.send([push("flaky-device")])[0].outcome for _ in range(3)]

    assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.SENT]
    assert [line["status"] for line in sandbox.received("fcm")] == [503, 503, 200]


def test_it_reports_auth_failed_when_the_account_may_not_send_for_the_project(sandbox, retail):
    credential = retail.fcm_credential
    credential.project_id = "someone-elses-project"  # not saved: the sandbox knows the real one

    [result] = FcmClient(credential.for_client()).send([push("device-1")])

    assert result.outcome == Outcome.AUTH_FAILED
    assert (result.status, result.reason) == (403, "PERMISSION_DENIED")
    assert "cloudmessaging.messages.create" in result.detail
    assert len(sandbox.received("fcm")) == 1  # a permission is not fixed by a new token


# Access tokens -----------------------------------------------------------------------------


def test_it_reuses_one_token_across_sends_and_clients(sandbox, retail):
    for _ in range(3):
        with_client = FcmClient(retail.fcm_credential.for_client())
        assert with_client.send([push("device-1"), push("device-2")])[1].outcome == Outcome.SENT
        with_client.close()

    assert len(sandbox.received("fcm")) == 6
    assert len(sandbox.received("fcm-token")) == 1


def test_threads_that_start_together_ask_for_one_token(sandbox, retail):
    credential = retail.fcm_credential
    outcomes: list[Outcome] = []

    def send() -> None:
        fcm = FcmClient(credential.for_client())  # a transport is for one thread
        outcomes.extend(result.outcome for result in fcm.send([push("device-1")]))
        fcm.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == [Outcome.SENT] * 8
    assert len(sandbox.received("fcm-token")) == 1


def test_it_asks_for_a_new_token_five_minutes_before_it_expires(client, sandbox, token_clock):
    client.send([push("device-1")])
    lifetime = 3599  # what the sandbox, like Google, says in expires_in

    token_clock.advance(lifetime - 301)
    client.send([push("device-1")])
    assert len(sandbox.received("fcm-token")) == 1

    token_clock.advance(2)
    client.send([push("device-1")])
    assert len(sandbox.received("fcm-token")) == 2


def test_it_refreshes_a_refused_token_once_and_resends(client, sandbox):
    client.send([push("device-1")])
    sandbox.expire_access_tokens()

    results = client.send([push("device-2"), push("device-3")])

    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    assert len(sandbox.received("fcm-token")) == 2
    assert [line["status"] for line in sandbox.received("fcm")] == [200, 401, 401, 200, 200]


def test_it_raises_a_permanent_error_when_google_refuses_the_assertion(sandbox, retail):
    credential = unknown_credential(retail)
    private_key = json.loads(credential.read_secret()["service_account"])["private_key"]

    with pytest.raises(ProviderError) as refused:
        FcmClient(credential.for_client()).send([push("device-1")])

    assert refused.value.permanent
    assert "invalid_grant (Invalid JWT Signature.)" in refused.value.message
    assert private_key.splitlines()[1] not in refused.value.message
    assert sandbox.received("fcm") == []


def test_it_raises_a_permanent_error_for_an_unreadable_service_account(sandbox, retail):
    credential = retail.fcm_credential
    credential.store_secret({"service_account": "{not json"})

    with pytest.raises(ProviderError) as unreadable:
        FcmClient(credential.for_client()).send([push("device-1")])

    assert unreadable.value.permanent
    assert "unreadable service account" in unreadable.value.message
    assert sandbox.received() == []


def test_a_service_account_that_cannot_be_decrypted_makes_no_client(sandbox, retail):
    credential = retail.fcm_credential
    credential.encrypted_secret = "not a fernet token"

    with pytest.raises(ProviderError, match="unreadable service account") as raised:
        credential.for_client()

    assert raised.value.permanent
    assert "(DecryptionError)" in raised.value.message
    assert sandbox.received() == []


def test_it_raises_a_temporary_error_when_google_cannot_be_reached(sandbox, retail, settings):
    settings.FCM_TOKEN_URL = f"https://localhost:{unused_port()}/token"

    with pytest.raises(ProviderError) as unreachable:
        FcmClient(retail.fcm_credential.for_client()).send([push("device-1")])

    assert not unreachable.value.permanent
    assert "could not reach Google's token endpoint: ConnectError" in unreachable.value.message


def test_it_reports_a_tls_failure_at_the_token_endpoint(sandbox, retail, settings, tmp_path):
    settings.CA_BUNDLE = str(stranger_ca(tmp_path))

    with pytest.raises(ProviderError) as untrusted:
        FcmClient(retail.fcm_credential.for_client()).send([push("device-1")])

    assert not untrusted.value.permanent
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.value.message


def test_it_reports_a_tls_failure_of_a_push_as_retry_with_its_text(sandbox, retail, tmp_path):
    transport = Transport(ca_bundle=str(stranger_ca(tmp_path)))
    # The token comes over httpx, trusted.
    fcm = FcmClient(retail.fcm_credential.for_client(), transport)

    [result] = fcm.send([push("device-1")])

    assert result.outcome == Outcome.RETRY
    assert result.status == 0
    assert result.detail.startswith("TLS handshake failed:")
    fcm.close()
    transport.perform([])  # the client leaves a transport it was given open
    transport.close()


# Answers the sandbox never gives -------------------------------------------------------------


class CannedGoogle:
    """Answer each path with what a test set, counting and keeping the requests."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, dict[str, str], dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, bytes]] = []  # (path, authorization, body)
        canned = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                canned.requests.append((self.path, self.headers.get("authorization", ""), body))
                status, headers, document = canned.answers.get(self.path, (404, {}, {}))
                data = json.dumps(document).encode()
                self.send_response(status)
                for name, value in {**headers, "content-type": "application/json"}.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def answer_sends(self, status: int, document: dict[str, Any], **headers: str) -> None:
        self.answers["/v1/projects/contoso-retail/messages:send"] = (status, headers, document)

    def sends(self) -> list[tuple[str, str, bytes]]:
        return [r for r in self.requests if r[0].endswith("/messages:send")]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def google(sandbox, settings):
    """FCM's send endpoint answered by a CannedGoogle; tokens still come from the sandbox."""
    canned = CannedGoogle()
    settings.FCM_URL = canned.url
    yield canned
    canned.close()


def fcm_error(status: int, rpc_status: str, message: str, code: str = "") -> dict[str, Any]:
    error: dict[str, Any] = {"code": status, "message": message, "status": rpc_status}
    if code:
        error["details"] = [
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
        ]
    return {"error": error}


def test_sender_id_mismatch_is_a_credential_problem_never_a_gone_device(client, google):
    google.answer_sends(
        403, fcm_error(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH")
    )

    [result] = client.send([push("device-of-another-project")])

    # A service account of another Firebase project gets this for every token of the app.
    assert result.outcome == Outcome.AUTH_FAILED
    assert (result.status, result.reason, result.detail) == (
        403,
        "SENDER_ID_MISMATCH",
        "SenderId mismatch",
    )


def test_it_reports_auth_failed_on_third_party_auth_error_without_a_new_token(
    client, google, sandbox
):
    message = "Auth error from APNS or Web Push Service"
    google.answer_sends(401, fcm_error(401, "UNAUTHENTICATED", message, "THIRD_PARTY_AUTH_ERROR"))

    [result] = client.send([push("device-1")])

    assert result.outcome == Outcome.AUTH_FAILED
    assert (result.reason, result.detail) == ("THIRD_PARTY_AUTH_ERROR", message)
    assert len(google.sends()) == 1
    assert len(sandbox.received("fcm-token")) == 1


def test_it_reports_auth_failed_when_the_new_token_is_refused_too(client, google, sandbox):
    google.answer_sends(401, fcm_error(401, "UNAUTHENTICATED", "Request had invalid credentials."))

    results = client.send([push("device-1"), push("device-2")])

    assert [r.outcome for r in results] == [Outcome.AUTH_FAILED, Outcome.AUTH_FAILED]
    assert results[0].reason == "UNAUTHENTICATED"
    assert len(sandbox.received("fcm-token")) == 2  # refreshed once, not per push
    sent_with = [authorization for _, authorization, _ in google.sends()]
    assert len(sent_with) == 4 and len(set(sent_with)) == 2  # each push resent once, new token


def test_it_retries_internal_errors(client, google):
    google.answer_sends(500, fcm_error(500, "INTERNAL", "Internal error encountered.", "INTERNAL"))

    [result] = client.send([push("device-1")])

    assert (result.outcome, result.status, result.reason) == (Outcome.RETRY, 500, "INTERNAL")


def test_it_reads_retry_after_given_as_a_date(client, google):
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    google.answer_sends(
        429,
        fcm_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded", "QUOTA_EXCEEDED"),
        **{"retry-after": later},
    )

    [result] = client.send([push("device-1")])

    assert result.outcome == Outcome.RETRY
    assert 110 < result.retry_after <= 120


def test_it_does_not_retire_devices_on_a_not_found_without_fcm_error(client, google):
    google.answer_sends(404, fcm_error(404, "NOT_FOUND", "Requested entity was not found."))

    [result] = client.send([push("device-1")])

    assert (result.outcome, result.reason) == (Outcome.MESSAGE_FAILED, "NOT_FOUND")


def test_it_does_not_follow_redirects(client, google):
    google.answer_sends(301, {}, location=f"{google.url}/elsewhere")

    [result] = client.send([push("device-1")])

    assert (result.outcome, result.status) == (Outcome.MESSAGE_FAILED, 301)
    assert [path for path, _, _ in google.requests] == ["/v1/projects/contoso-retail/messages:send"]


def test_it_raises_a_temporary_error_when_the_token_endpoint_fails(retail, settings):
    canned = CannedGoogle()
    settings.FCM_TOKEN_URL = f"{canned.url}/token"
    canned.answers["/token"] = (503, {}, {"error": "backend_error"})

    with pytest.raises(ProviderError) as failed:
        FcmClient(retail.fcm_credential.for_client()).send([push("device-1")])

    assert not failed.value.permanent
    assert failed.value.message.endswith(": backend_error")
    canned.close()


# Validation --------------------------------------------------------------------------------


def test_it_validates_a_credential_google_accepts(client, sandbox):
    valid, message = client.validate()

    assert valid
    assert message == "FCM accepted a validate_only message for project contoso-retail."
    [line] = sandbox.received("fcm")
    assert line["validate_only"] is True


def test_it_validates_when_google_refuses_only_the_made_up_token(client, google):
    google.answer_sends(
        400,
        fcm_error(
            400,
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
            "INVALID_ARGUMENT",
        ),
    )

    valid, message = client.validate()

    assert valid
    assert "not a valid FCM registration token" in message
    [(_, _, body)] = google.sends()
    assert json.loads(body)["validate_only"] is True


def test_it_invalidates_a_credential_google_refuses(sandbox, retail):
    valid, message = FcmClient(unknown_credential(retail).for_client()).validate()

    assert not valid
    assert message.endswith("invalid_grant (Invalid JWT Signature.)")
    assert sandbox.received("fcm") == []


def test_it_invalidates_a_credential_without_permission_for_the_project(sandbox, retail):
    credential = retail.fcm_credential
    credential.project_id = "someone-elses-project"

    valid, message = FcmClient(credential.for_client()).validate()

    assert not valid
    assert message.startswith("PERMISSION_DENIED: Permission 'cloudmessaging.messages.create'")


def test_it_cannot_validate_while_google_is_unreachable(sandbox, retail, settings):
    settings.FCM_TOKEN_URL = f"https://localhost:{unused_port()}/token"

    with pytest.raises(ProviderError) as unreachable:
        FcmClient(retail.fcm_credential.for_client()).validate()

    assert not unreachable.value.permanent


# Helpers -----------------------------------------------------------------------------------


def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stranger_ca(directory) -> Any:
    """Write a CA certificate that signed nothing the sandbox serves."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Stranger CA")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = directory / "stranger-ca.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path

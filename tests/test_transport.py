"""The HTTP/2 transport of the fan-out, over real TLS sockets on loopback (tests/h2_server.py).

Three certificate authorities: ``trusted`` signs the server and is the transport's CA bundle;
``stranger`` is trusted by nobody; ``clients`` signs the client certificates the server accepts.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from devices.providers.base import ProviderError
from devices.providers.transport import Request, Response, Transport
from tests.h2_server import Authority, H2Server


@pytest.fixture
def trusted(tmp_path: Path) -> Authority:
    return Authority(tmp_path, "trusted")


@pytest.fixture
def stranger(tmp_path: Path) -> Authority:
    return Authority(tmp_path, "stranger")


@pytest.fixture
def clients(tmp_path: Path) -> Authority:
    return Authority(tmp_path, "clients")


@pytest.fixture
def server(trusted: Authority):
    with H2Server(trusted.issue_server()) as running:
        yield running


def post(origin: str, path: str, key: str = "k", body: bytes = b"{}", **headers: str) -> Request:
    return Request(key=key, method="POST", url=origin + path, headers=headers, body=body)


def send_one(transport: Transport, request: Request) -> Response:
    [response] = transport.perform([request])
    return response


def test_it_multiplexes_500_requests_over_few_http2_connections(server, trusted):
    requests = [
        post(server.origin, f"/3/device/{n}", key=f"delivery-{n}", body=b"x" * n)
        for n in range(500)
    ]
    with Transport(ca_bundle=trusted.file, connections_per_host=2) as transport:
        responses = transport.perform(requests)

    assert [response.key for response in responses] == [f"delivery-{n}" for n in range(500)]
    assert [json.loads(response.body)["length"] for response in responses] == list(range(500))
    assert {response.status for response in responses} == {200}
    assert {response.http_version for response in responses} == {"2"}
    assert len(server.seen) == 500
    assert {request.http_version for request in server.seen} == {"2"}
    assert 1 <= len(server.connections()) <= 2


def test_it_keeps_its_connections_between_calls(server, trusted):
    with Transport(ca_bundle=trusted.file, connections_per_host=1) as transport:
        transport.perform([post(server.origin, "/first")])
        transport.perform([post(server.origin, f"/second/{n}") for n in range(20)])

    assert len(server.connections()) == 1


def test_it_sends_headers_and_body_as_sent(server, trusted):
    body = b'{"aps":{"alert":"caf\xc3\xa9"}}\x00\xff'
    headers = {
        "authorization": "bearer eyJ.header.sig",
        "apns-topic": "com.contoso.retail",
        "apns-push-type": "alert",
        "apns-id": "123e4567-e89b-12d3-a456-426614174000",
    }
    with Transport(ca_bundle=trusted.file) as transport:
        response = send_one(transport, post(server.origin, "/3/device/abc", body=body, **headers))

    assert response.status == 200
    [seen] = server.seen
    assert (seen.method, seen.path, seen.body) == ("POST", "/3/device/abc", body)
    received = dict(seen.headers)
    assert {name: received.get(name) for name in headers} == headers
    assert received["content-length"] == str(len(body))
    # Only what the caller set, plus what HTTP itself needs: no invented content-type or accept.
    assert "content-type" not in received
    assert "accept" not in received


def test_it_sends_a_content_type_the_caller_gives(server, trusted):
    with Transport(ca_bundle=trusted.file) as transport:
        send_one(transport, post(server.origin, "/send", **{"Content-Type": "application/json"}))

    assert dict(server.seen[0].headers)["content-type"] == "application/json"


def test_it_returns_status_and_lowercased_headers(server, trusted):
    with Transport(ca_bundle=trusted.file) as transport:
        response = send_one(transport, post(server.origin, "/status/410"))

    assert response.status == 410
    assert response.headers["x-reason"] == "Teapot"
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.body) == {"reason": "Teapot"}
    assert response.error == ""


def test_it_sends_other_methods(server, trusted):
    with Transport(ca_bundle=trusted.file) as transport:
        responses = transport.perform(
            [
                Request("get", "GET", server.origin + "/one", {}),
                Request("put", "PUT", server.origin + "/two", {}, b"body"),
                Request("post", "POST", server.origin + "/three", {}, b"post"),
                Request("get-again", "GET", server.origin + "/four", {}),
            ]
        )

    assert [response.status for response in responses] == [200, 200, 200, 200]
    assert sorted((seen.path, seen.method, seen.body) for seen in server.seen) == [
        ("/four", "GET", b""),
        ("/one", "GET", b""),
        ("/three", "POST", b"post"),
        ("/two", "PUT", b"body"),
    ]


def test_it_refuses_unsendable_requests_and_sends_the_rest(server, trusted):
    requests = [
        post(server.origin, "/first", key="first"),
        post(server.origin, "/injected", key="injected", **{"apns-collapse-id": "a\r\nx-evil: 1"}),
        post(server.origin, "/caf\u00e9", key="accented"),
        post(server.origin, "/last", key="last"),
    ]
    with Transport(ca_bundle=trusted.file) as transport:
        responses = transport.perform(requests)

    assert [(response.key, response.status) for response in responses] == [
        ("first", 200),
        ("injected", 0),
        ("accented", 0),
        ("last", 200),
    ]
    assert responses[1].error == "request not sent: a header name or value contains a line break"
    assert responses[2].error == "request not sent: the URL or a header is not ASCII"
    assert sorted(seen.path for seen in server.seen) == ["/first", "/last"]


def test_it_times_out_a_hanging_request_and_answers_the_others(server, trusted):
    requests = [post(server.origin, f"/fine/{n}", key=str(n)) for n in range(10)]
    requests.insert(5, post(server.origin, "/hang", key="hang"))
    with Transport(ca_bundle=trusted.file, timeout=2.0) as transport:
        responses = transport.perform(requests)

    hung = responses[5]
    assert (hung.key, hung.status, hung.body) == ("hang", 0, b"")
    assert hung.error.startswith("timed out: ")
    others = responses[:5] + responses[6:]
    assert [response.status for response in others] == [200] * 10
    assert [response.key for response in others] == [str(n) for n in range(10)]


def test_it_reports_a_certificate_from_an_unknown_authority(trusted, stranger):
    with (
        H2Server(stranger.issue_server()) as server,
        Transport(ca_bundle=trusted.file) as transport,
    ):
        response = send_one(transport, post(server.origin, "/3/device/abc"))

    assert response.status == 0
    assert response.error.startswith("TLS handshake failed: ")
    assert "certificate" in response.error.lower()
    assert server.seen == []


def test_it_reports_a_refused_connection(trusted):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Transport(ca_bundle=trusted.file) as transport:
        response = send_one(transport, post(f"https://127.0.0.1:{port}", "/3/device/abc"))

    assert response.status == 0
    assert response.error.startswith("connection failed: ")
    assert response.headers == {}


def test_it_returns_a_redirect_without_following_it(server, trusted):
    with Transport(ca_bundle=trusted.file) as transport:
        response = send_one(transport, post(server.origin, "/redirect"))

    assert response.status == 301
    assert response.headers["location"] == "/elsewhere"
    assert [seen.path for seen in server.seen] == ["/redirect"]


def test_it_presents_the_client_certificate(trusted, clients):
    certificate = clients.issue_client("apns-app")
    with (
        H2Server(trusted.issue_server(), client_ca=clients.file) as server,
        Transport(
            ca_bundle=trusted.file,
            client_cert=(certificate.certificate_pem, certificate.key_pem),
        ) as transport,
    ):
        response = send_one(transport, post(server.origin, "/3/device/abc"))

    assert response.status == 200
    assert [seen.path for seen in server.seen] == ["/3/device/abc"]


def test_it_is_refused_without_a_client_certificate(trusted, clients, stranger):
    outsider = stranger.issue_client("outsider")
    with H2Server(trusted.issue_server(), client_ca=clients.file) as server:
        with Transport(ca_bundle=trusted.file) as transport:
            without = send_one(transport, post(server.origin, "/3/device/abc"))
        with Transport(
            ca_bundle=trusted.file, client_cert=(outsider.certificate_pem, outsider.key_pem)
        ) as transport:
            unknown = send_one(transport, post(server.origin, "/3/device/abc"))

    assert (without.status, unknown.status) == (0, 0)
    assert without.error and unknown.error
    assert server.seen == []


def test_it_speaks_http11_to_a_server_without_http2(trusted):
    with (
        H2Server(trusted.issue_server(), alpn=("http/1.1",)) as server,
        Transport(ca_bundle=trusted.file) as transport,
    ):
        responses = transport.perform([post(server.origin, f"/send/{n}") for n in range(5)])

    assert [(response.status, response.http_version) for response in responses] == [
        (200, "1.1")
    ] * 5
    assert {seen.http_version for seen in server.seen} == {"1.1"}


def test_it_trusts_the_system_store_besides_the_ca_bundle(tmp_path, trusted, stranger, monkeypatch):
    openssl = shutil.which("openssl")
    assert openssl, "the openssl command (Debian package openssl) hashes the test CA directory"
    system = tmp_path / "system-certs"
    system.mkdir()
    shutil.copy(stranger.file, system / "stranger.pem")
    subprocess.run([openssl, "rehash", str(system)], check=True)
    monkeypatch.setenv(ssl.get_default_verify_paths().openssl_capath_env, str(system))
    with (
        H2Server(stranger.issue_server("system")) as by_system,
        H2Server(trusted.issue_server("bundle")) as by_bundle,
        Transport(ca_bundle=trusted.file) as transport,
    ):
        responses = transport.perform(
            [post(by_system.origin, "/one"), post(by_bundle.origin, "/two")]
        )

    assert [response.status for response in responses] == [200, 200]


def test_it_combines_the_system_file_and_the_ca_bundle_without_a_system_directory(
    tmp_path, trusted, stranger, monkeypatch
):
    # A system with a CA file but no hashed directory: both bundles go into one private file.
    paths = ssl.DefaultVerifyPaths(stranger.file, None, "NO_SUCH_VAR", None, "NO_SUCH_VAR", None)
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: paths)
    with (
        H2Server(stranger.issue_server("system")) as by_system,
        H2Server(trusted.issue_server("bundle")) as by_bundle,
    ):
        transport = Transport(ca_bundle=trusted.file)
        scratch = Path(transport._scratch)
        responses = transport.perform(
            [post(by_system.origin, "/one"), post(by_bundle.origin, "/two")]
        )
        private = scratch.stat().st_mode & 0o777
        transport.close()

    assert private == 0o700
    assert [response.status for response in responses] == [200, 200]
    assert not scratch.exists()


def test_it_refuses_a_missing_ca_bundle(tmp_path):
    with pytest.raises(ProviderError, match="not a readable file") as raised:
        Transport(ca_bundle=str(tmp_path / "missing.pem"))

    assert raised.value.permanent


def test_it_answers_an_empty_batch(trusted):
    with Transport(ca_bundle=trusted.file) as transport:
        assert transport.perform([]) == []

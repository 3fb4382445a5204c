"""Benchmark the fan-out's HTTP/2 engine and provider clients: pushes per second to a sink.

nginx from Debian answers 200 over TLS and HTTP/2 on loopback as APNs, FCM and WNS (and their
token endpoints) answer when all goes well (bench/nginx_sink.py, one worker). In one run:

- h2load measures the sink's own capacity, so we know it is not the bottleneck;
- our Transport (devices/providers/transport.py, libcurl multiplexing through pycurl) sends
  APNs-shaped POSTs: a provider JWT, the apns-* headers, a fresh apns-id and a 200-byte JSON
  body each, in batches as the fan-out sends them; one process, one thread;
- aioapns (h2 on asyncio), the usual Python APNs library, sends the same load to the same sink;
- httpx with HTTP/2 sends it too, for the record;
- then each of our provider clients (ApnsClient, FcmClient, WnsClient), as the fan-out calls
  them: ``send()`` of batches of pushes rendered by each provider module's ``render``, one
  tracking id and device each, through the client's own transport, its token cache (FCM and
  WNS fetch one access token from the sink's token endpoints) and its classification of every
  answer. No
  database: the credentials are unsaved model instances, and a query would stop the bench.
  Rendering happens before the clock starts (bench/payload_rendering.py measures it).

Each client runs a warm-up (connections open) and then several timed rounds; ``value`` is the
median round. Prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import ssl
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from nginx_sink import Sink, nginx_sink  # noqa: E402

from devices.providers.transport import Request, Transport  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pushcenter.settings")

TOPIC = "com.contoso.retail"
TEAM_ID = "TEAM123456"
KEY_ID = "KEY1234567"
CONNECTIONS = 4
IN_FLIGHT = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=50_000, help="per round, our transport")
    parser.add_argument("--batch", type=int, default=1000, help="messages per perform() call")
    parser.add_argument("--aioapns-messages", type=int, default=10_000, help="per round")
    parser.add_argument("--httpx-messages", type=int, default=2_000)
    parser.add_argument(
        "--client-messages", type=int, default=20_000, help="per round, each provider client"
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    key = ec.generate_private_key(ec.SECP256R1())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    payload = _payload()
    with nginx_sink(workers=1) as sink:
        sink_rate = h2load(sink)
        ours, cpu = measure_transport(sink, key_pem, payload, args)
        theirs = measure_aioapns(sink, key_pem, payload, args)
        httpx_rate = measure_httpx(sink, key_pem, payload, args)
        clients = measure_clients(sink, args)
    value = statistics.median(ours)
    aioapns_rate = statistics.median(theirs)
    print(
        json.dumps(
            {
                "bench": "providers_apns",
                "value": round(value),
                "unit": "messages/s",
                "sink_h2load": round(sink_rate),
                "aioapns": round(aioapns_rate),
                "ratio_vs_aioapns": round(value / aioapns_rate, 1),
                "httpx": round(httpx_rate),
                "rounds": [round(rate) for rate in ours],
                "aioapns_rounds": [round(rate) for rate in theirs],
                "messages_per_cpu_second": round(cpu),
                "messages": args.messages,
                "batch": args.batch,
                "connections": CONNECTIONS,
                "in_flight": IN_FLIGHT,
                "body_bytes": len(payload),
                "target": {"messages/s": 10_000, "ratio_vs_aioapns": 3},
            }
        ),
        flush=True,
    )
    for provider, (rates, cpu) in clients.items():
        print(
            json.dumps(
                {
                    "bench": "provider_client",
                    "provider": provider,
                    "value": round(statistics.median(rates)),
                    "unit": "messages/s",
                    "messages": args.client_messages,
                    "messages_per_cpu_second": round(cpu),
                    "rounds": [round(rate) for rate in rates],
                    "batch": args.batch,
                }
            ),
            flush=True,
        )


def _payload() -> bytes:
    """Return a 200-byte APNs payload, as the renderer makes them."""
    message = {
        "aps": {
            "alert": {"title": "Half price this weekend", "body": "Every jacket and boot."},
            "sound": "default",
        },
        "tracking_id": str(uuid.UUID(int=0)),
        "pad": "",
    }
    encoded = json.dumps(message, separators=(",", ":")).encode()
    message["pad"] = "x" * (200 - len(encoded))
    encoded = json.dumps(message, separators=(",", ":")).encode()
    assert len(encoded) == 200, len(encoded)
    return encoded


def _provider_token(key_pem: str) -> str:
    """Return the provider JWT, made once and reused as APNs asks."""
    return jwt.encode(
        {"iss": TEAM_ID, "iat": int(time.time())},
        key_pem,
        algorithm="ES256",
        headers={"kid": KEY_ID},
    )


def _device_token(n: int) -> str:
    return f"{n:064x}"


def h2load(sink: Sink) -> float:
    """Return the sink's own requests/s as h2load measures it."""
    output = subprocess.run(
        ["h2load", "-n", "200000", "-c", "4", "-m", "100", f"{sink.origin}/3/device/x"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    if "200000 succeeded" not in output:
        raise SystemExit(f"h2load did not succeed against the sink:\n{output}")
    return float(re.search(r"finished in [\d.]+\w*, ([\d.]+) req/s", output).group(1))


def measure_transport(
    sink: Sink, key_pem: str, payload: bytes, args: argparse.Namespace
) -> tuple[list[float], float]:
    """Return our transport's messages/s for each round, and messages per CPU second."""
    authorization = f"bearer {_provider_token(key_pem)}"
    url = f"{sink.origin}/3/device/"

    def requests(count: int) -> list[Request]:
        return [
            Request(
                key=str(n),
                method="POST",
                url=url + _device_token(n),
                headers={
                    "authorization": authorization,
                    "apns-topic": TOPIC,
                    "apns-push-type": "alert",
                    "apns-priority": "10",
                    "apns-expiration": "0",
                    "apns-id": str(uuid.uuid4()),
                },
                body=payload,
            )
            for n in range(count)
        ]

    with Transport(
        ca_bundle=sink.ca_file, connections_per_host=CONNECTIONS, max_in_flight=IN_FLIGHT
    ) as transport:

        def send(count: int) -> None:
            for start in range(0, count, args.batch):
                batch = requests(min(args.batch, count - start))
                responses = transport.perform(batch)
                _check([response.status for response in responses], "our transport")

        send(min(args.messages, 5_000))  # warm-up: connections open, handles pooled
        cpu_before = time.process_time()
        rates = _rounds(args.rounds, args.messages, lambda: send(args.messages))
        cpu = time.process_time() - cpu_before
    return rates, args.messages * args.rounds / cpu


def measure_aioapns(
    sink: Sink, key_pem: str, payload: bytes, args: argparse.Namespace
) -> list[float]:
    """Return aioapns's messages/s for each round against the same sink."""
    from aioapns import APNs, NotificationRequest, PushType
    from aioapns.connection import APNsProductionClientProtocol

    class SinkProtocol(APNsProductionClientProtocol):
        # aioapns has no URL option: point its production host at the sink, here only.
        APNS_SERVER = "127.0.0.1"
        APNS_PORT = sink.port

    logging.getLogger("aioapns").setLevel(logging.CRITICAL)  # it logs every answer it drops
    message = json.loads(payload)
    context = ssl.create_default_context(cafile=sink.ca_file)
    context.set_alpn_protocols(["h2"])

    async def run() -> list[float]:
        client = APNs(
            key=key_pem,
            key_id=KEY_ID,
            team_id=TEAM_ID,
            topic=TOPIC,
            max_connections=CONNECTIONS,
            ssl_context=context,
        )
        client.pool.protocol_class = SinkProtocol
        limit = asyncio.Semaphore(IN_FLIGHT)

        async def one(n: int) -> str:
            request = NotificationRequest(
                device_token=_device_token(n),
                message=message,
                priority=10,
                time_to_live=0,
                push_type=PushType.ALERT,
            )
            async with limit:
                return (await client.send_notification(request)).status

        async def send(count: int) -> None:
            statuses = await asyncio.gather(*(one(n) for n in range(count)))
            _check([int(status) for status in statuses], "aioapns")

        await send(min(args.aioapns_messages, 2_000))
        rates = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            await send(args.aioapns_messages)
            rates.append(args.aioapns_messages / (time.perf_counter() - started))
        client.pool.close()
        return rates

    return asyncio.run(run())


def measure_httpx(sink: Sink, key_pem: str, payload: bytes, args: argparse.Namespace) -> float:
    """Return httpx's (HTTP/2) messages/s for one round against the same sink."""
    import httpx

    authorization = f"bearer {_provider_token(key_pem)}"
    context = ssl.create_default_context(cafile=sink.ca_file)

    async def run() -> float:
        limits = httpx.Limits(max_connections=CONNECTIONS)
        async with httpx.AsyncClient(
            http2=True, verify=context, limits=limits, timeout=30
        ) as client:
            limit = asyncio.Semaphore(IN_FLIGHT)

            async def one(n: int) -> int:
                headers = {
                    "authorization": authorization,
                    "apns-topic": TOPIC,
                    "apns-push-type": "alert",
                    "apns-priority": "10",
                    "apns-expiration": "0",
                    "apns-id": str(uuid.uuid4()),
                }
                async with limit:
                    url = f"{sink.origin}/3/device/{_device_token(n)}"
                    response = await client.post(url, headers=headers, content=payload)
                    return response.status_code

            async def send(count: int) -> float:
                started = time.perf_counter()
                statuses = await asyncio.gather(*(one(n) for n in range(count)))
                _check(statuses, "httpx")
                return count / (time.perf_counter() - started)

            await send(min(args.httpx_messages, 200))
            return await send(args.httpx_messages)

    return asyncio.run(run())


def measure_clients(sink: Sink, args: argparse.Namespace) -> dict[str, tuple[list[float], float]]:
    """Return each provider client's messages/s per round and its messages per CPU second."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    origin = sink.localhost_origin  # WNS channel URIs must name a host, not an IP address
    settings.APNS_PRODUCTION_URL = settings.APNS_DEVELOPMENT_URL = origin
    settings.FCM_URL = origin
    settings.FCM_TOKEN_URL = f"{origin}/token"
    settings.WNS_TOKEN_URL = origin
    settings.WNS_HOSTS = [f"localhost:{sink.port}"]
    settings.CA_BUNDLE = sink.ca_file
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs each token request

    def no_database(*_: object) -> None:
        raise SystemExit("the provider clients' bench touched the database")

    measured = {}
    with connections["default"].execute_wrapper(no_database):
        for provider, (client, pushes) in _clients(origin, args.client_messages).items():
            try:
                measured[provider] = _measure_client(provider, client, pushes, args)
            finally:
                client.close()
    return measured


def _clients(origin: str, count: int) -> dict[str, tuple[object, list[object]]]:
    """Return each provider's client, on an unsaved credential, and `count` rendered pushes."""
    from devices import sample_credentials
    from devices.models import ApnsCredential, FcmCredential, MobileApp, WnsCredential
    from devices.providers.apns import ApnsClient
    from devices.providers.apns import render as render_apns
    from devices.providers.base import Push
    from devices.providers.fcm import FcmClient
    from devices.providers.fcm import render as render_fcm
    from devices.providers.message import Message
    from devices.providers.wns import WnsClient
    from devices.providers.wns import render as render_wns

    app = MobileApp(pk=1, name="retail", display_name="Retail")
    apns = ApnsCredential(pk=1, app=app, key_id=KEY_ID, team_id=TEAM_ID, bundle_id=TOPIC)
    apns.store_secret({"signing_key": sample_credentials.p8_signing_key().decode()})
    fcm = FcmCredential(
        pk=1,
        app=app,
        project_id="contoso-retail",
        client_email="push@contoso-retail.iam.gserviceaccount.com",
    )
    fcm.store_secret(
        {"service_account": sample_credentials.service_account("contoso-retail").decode()}
    )
    wns = WnsCredential(
        pk=1,
        app=app,
        tenant_id="11111111-1111-4111-8111-111111111111",
        client_id="22222222-2222-4222-8222-222222222222",
        object_id="33333333-3333-4333-8333-333333333333",
        package_family_name="Contoso.News_8wekyb3d8bbwe",
    )
    wns.store_secret({"client_secret": "wns-client-secret-value"})

    def message(n: int) -> Message:
        return Message(
            title="Half price this weekend",
            body="Every jacket and boot, until Sunday night.",
            sound="default",
            url="https://contoso.example/sale",
            tracking_id=str(uuid.UUID(int=n)),
            custom_data={"campaign": "weekend-sale"},
        )

    def pushes(render: Callable[[int], tuple[str, bytes, dict[str, str]]]) -> list[Push]:
        made = []
        for n in range(count):
            target, body, headers = render(n)
            made.append(Push(key=str(uuid.uuid4()), target=target, body=body, headers=headers))
        return made

    def apns_push(n: int) -> tuple[str, bytes, dict[str, str]]:
        payload = render_apns(message(n))
        return _device_token(n), payload.body, payload.headers

    def fcm_push(n: int) -> tuple[str, bytes, dict[str, str]]:
        token = f"bench{n:011d}:APA91b" + "x" * 140
        payload = render_fcm(message(n), token=token)
        return token, payload.body, payload.headers

    def wns_push(n: int) -> tuple[str, bytes, dict[str, str]]:
        payload = render_wns(message(n))
        return f"{origin}/w/?token=AwYAAAD{n:0120x}", payload.body, payload.headers

    return {
        "apns": (ApnsClient(apns.for_client()), pushes(apns_push)),
        "fcm": (FcmClient(fcm.for_client()), pushes(fcm_push)),
        "wns": (WnsClient(wns.for_client()), pushes(wns_push)),
    }


def _measure_client(
    provider: str, client: object, pushes: list[object], args: argparse.Namespace
) -> tuple[list[float], float]:
    """Send every push through client.send() in batches, several rounds; check each Result."""
    from devices.providers.base import Outcome

    def send(count: int) -> None:
        for start in range(0, count, args.batch):
            results = client.send(pushes[start : min(start + args.batch, count)])
            failed = [r for r in results if r.outcome != Outcome.SENT or not r.provider_id]
            if failed:
                raise SystemExit(
                    f"{provider} client: {len(failed)} of {len(results)} not sent: {failed[:2]}"
                )

    count = len(pushes)
    send(min(count, 2_000))  # warm-up: the access token fetched, connections open
    cpu_before = time.process_time()
    rates = _rounds(args.rounds, count, lambda: send(count))
    cpu = time.process_time() - cpu_before
    return rates, count * args.rounds / cpu


def _rounds(rounds: int, messages: int, send: Callable[[], None]) -> list[float]:
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        send()
        rates.append(messages / (time.perf_counter() - started))
    return rates


def _check(statuses: list[int], client: str) -> None:
    failed = [status for status in statuses if status != 200]
    if failed:
        raise SystemExit(
            f"{client}: {len(failed)} of {len(statuses)} not answered 200: {failed[:5]}"
        )


if __name__ == "__main__":
    main()

"""Benchmark the fan-out's HTTP/2 engine: APNs-shaped pushes per second to a sink, beside others.

nginx from Debian answers 200 ``{}`` over TLS and HTTP/2 on loopback (bench/nginx_sink.py, one
worker). In one run:

- h2load measures the sink's own capacity, so we know it is not the bottleneck;
- our Transport (devices/providers/transport.py, libcurl multiplexing through pycurl) sends
  APNs-shaped POSTs: a provider JWT, the apns-* headers, a fresh apns-id and a 200-byte JSON
  body each, in batches as the fan-out sends them; one process, one thread;
- aioapns (h2 on asyncio), the usual Python APNs library, sends the same load to the same sink;
- httpx with HTTP/2 sends it too, for the record.

Each client runs a warm-up (connections open) and then several timed rounds; ``value`` is the
median round. Prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
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

"""Sending survives its parts failing: a worker killed mid-batch, a start delivered twice, the
broker restarting, the database refusing connections for a while.

Everything is real: two Celery worker processes (and Beat where the sweep matters) on a broker
private to the test, the test database (transactional access, so the workers see the rows),
and sandbox gateways that the workers reach over TLS sockets. Nothing of ours is patched; a
short lease and sweep (environment variables the product reads) keep each test short.

Messages are counted per delivery by the payload's tracking_id (the delivery's id, signed),
from what the gateways recorded with status 200.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone

from campaigns import delivery
from campaigns.launches import delivery_pk
from campaigns.models import FINAL_DELIVERY_STATUSES, Delivery, DeliveryStatus, Notification, Status
from devices.models import Device
from tests import faults
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
pytest_plugins = ["tests.cluster"]

# More than one batch (campaigns.delivery.BATCH_SIZE is 1000), so both workers hold one.
DEVICES = 1100
# Every tenth device's token makes the APNs sandbox answer after 2 s: a batch's fast messages
# are accepted at once while its worker still waits for the slow ones before recording.
SLOW_EVERY = 10
# A worker's deliveries between its claim and the provider's answers being recorded.
IN_FLIGHT = (DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)


def token(number: int) -> str:
    if number % SLOW_EVERY == 0:
        return "5105" + f"{number:060x}"
    return f"{number:064x}"


def add_devices(app, count: int) -> None:
    now = timezone.now()
    Device.objects.bulk_create(
        Device(
            app=app,
            install_id=uuid.uuid4(),
            platform="ios",
            push_token=token(number),
            locale="en-US",
            language="en",
            first_seen=now,
            last_seen=now,
        )
        for number in range(1, count + 1)
    )


def scheduled(app, name: str = "Sale") -> Notification:
    return Notification.objects.create(
        app=app,
        name=name,
        platforms=["ios"],
        status=Status.SCHEDULED,
        send_at=timezone.now(),
        title_en="Half price",
    )


def accepted(*gateways: faults.Gateways) -> list[tuple[int, datetime]]:
    """(delivery id, when) of every message a gateway accepted (status 200)."""
    return [
        (delivery_pk(line["payload"]["tracking_id"]), datetime.fromisoformat(line["at"]))
        for gateway in gateways
        for line in gateway.received("apns")
        if line["status"] == 200
    ]


def completed(notification: Notification) -> bool:
    notification.refresh_from_db()
    return notification.status == Status.COMPLETED


def in_flight(notification: Notification) -> QuerySet[Delivery]:
    """Its deliveries a worker has claimed or handed over and not yet recorded an answer for."""
    return notification.deliveries.filter(status__in=IN_FLIGHT)


def statuses(notification: Notification) -> Counter:
    return Counter(notification.deliveries.values_list("status", flat=True))


@pytest.fixture
def redis_server(tmp_path):
    server = faults.RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


# 1. A worker killed in the middle of a batch ----------------------------------------------


def test_a_worker_killed_mid_batch_sends_nothing_twice_and_settles_its_batch(
    app, gateways, broker, cluster
):
    """Nothing is sent twice: the chunk the killed worker had handed to its provider (status
    sending) is settled as unknown once the lease runs out, never sent again; the rest of its
    batch, still only claimed, is sent by the workers that live, once. The price of at most
    once: of that one chunk, what the worker had not yet written when it died is not sent."""
    add_devices(app, DEVICES)
    # One gateway per worker process, so each message is known by the process that sent it.
    first, second, after_restart = gateways(), gateways(), gateways()
    processes = cluster(broker)
    processes.start_worker("alpha", **first.environment())
    processes.start_worker("bravo", **second.environment())
    processes.start_beat()
    processes.wait_ready("alpha", "bravo")
    notification = scheduled(app)

    broker.send("campaigns.start_send", notification.pk)
    # Kill a worker once the provider accepted part of its batch, while it waits for the rest.
    victim, victims_gateway = wait_for(
        lambda: next(
            ((name, gw) for name, gw in (("alpha", first), ("bravo", second)) if accepted(gw)),
            None,
        ),
        45,
        lambda: f"a worker sends\n{processes.tails()}",
        every=0.02,
    )
    processes.kill9(victim)
    killed_at = datetime.now(UTC)
    open_at_kill = set(in_flight(notification).values_list("pk", flat=True))
    processes.start_worker(victim, **after_restart.environment())

    wait_for(
        lambda: completed(notification), 50, lambda: f"the send completes\n{processes.tails()}"
    )

    messages = accepted(first, second, after_restart)
    per_delivery = Counter(pk for pk, _ in messages)
    deliveries = set(notification.deliveries.values_list("pk", flat=True))
    unknown = set(
        notification.deliveries.filter(status=DeliveryStatus.UNKNOWN).values_list("pk", flat=True)
    )
    sent_by_victim = {pk for pk, _ in accepted(victims_gateway)}
    others = {pk for pk, _ in accepted(second if victims_gateway is first else first)}
    others |= {pk for pk, _ in accepted(after_restart)}
    assert len(deliveries) == DEVICES
    assert not [pk for pk, count in per_delivery.items() if count > 1], "no message twice"
    assert statuses(notification).keys() <= {DeliveryStatus.SENT, DeliveryStatus.UNKNOWN}
    assert unknown <= open_at_kill, "only deliveries in flight when it died are in doubt"
    assert not unknown & others, "no other worker sent an in-doubt delivery"
    assert deliveries - unknown <= set(per_delivery), "every other device receives its message"
    assert unknown, "the killed worker was in the middle of a batch"
    _report(victim, killed_at, open_at_kill, sent_by_victim, unknown, per_delivery, messages)
    assert len(unknown) <= delivery.HANDOVER_SIZE, "at most one chunk is in doubt"


def _report(victim, killed_at, open_at_kill, sent_by_victim, unknown, per_delivery, messages):
    """Print what the kill did, for whoever weighs lost against doubled messages."""
    victims_lines = [at for pk, at in messages if pk in sent_by_victim]
    reached = unknown & set(per_delivery)
    print(
        f"\nscenario 1 ({connections['default'].vendor}): killed {victim} at {killed_at:%T.%f}; "
        f"{len(open_at_kill)} deliveries were claimed or sending; the provider had accepted "
        f"{len(sent_by_victim)} from the killed worker (the last "
        f"{(max(victims_lines) - killed_at).total_seconds():+.2f} s from the kill); "
        f"{len(unknown)} deliveries settled unknown, of which {len(reached)} reached the "
        f"provider and {len(unknown - reached)} did not (lost); "
        f"doubles: {sum(1 for count in per_delivery.values() if count > 1)}"
    )


# 2. The start delivered twice --------------------------------------------------------------


def test_a_start_delivered_twice_makes_one_delivery_and_one_message_per_device(
    app, gateways, broker, cluster
):
    add_devices(app, 300)
    gateway = gateways()
    processes = cluster(broker)
    processes.start_worker("alpha", **gateway.environment())
    processes.start_worker("bravo", **gateway.environment())
    processes.wait_ready("alpha", "bravo")
    notification = scheduled(app)

    # As Beat firing one schedule twice, one message for each worker, which take them at once.
    broker.send("campaigns.start_send", notification.pk, queue="alpha")
    broker.send("campaigns.start_send", notification.pk, queue="bravo")

    wait_for(
        lambda: completed(notification), 45, lambda: f"the send completes\n{processes.tails()}"
    )
    starts = wait_for(lambda: started_twice(processes), 10, "both start tasks end")
    per_delivery = Counter(pk for pk, _ in accepted(gateway))
    deliveries = notification.deliveries.all()
    assert deliveries.count() == 300
    assert len({d.device_id for d in deliveries}) == 300
    assert set(per_delivery) == {d.pk for d in deliveries}
    assert set(per_delivery.values()) == {1}, "one message per device"
    assert statuses(notification) == {DeliveryStatus.SENT: 300}
    assert starts == {"alpha": 1, "bravo": 1}
    print(f"\nscenario 2: start_send ran on {starts}")


def started_twice(processes: faults.Processes) -> dict[str, int] | None:
    """How many start tasks each worker finished, once two have; else None."""
    ends = {
        name: sum(
            "campaigns.start_send[" in line and "succeeded" in line
            for line in processes.log(name).splitlines()
        )
        for name in ("alpha", "bravo")
    }
    return ends if sum(ends.values()) == 2 else None


# 3. The broker restarting during a send ----------------------------------------------------


def test_a_broker_restart_mid_send_loses_no_message_the_sweep_restarts_what_it_lost(
    app, gateways, redis_server, cluster
):
    add_devices(app, DEVICES)
    broker = faults.Broker(
        redis_server.url,
        {"CELERY_BROKER_URL": redis_server.url, "CELERY_RESULT_BACKEND": redis_server.url},
    )
    first, second = gateways(), gateways()
    processes = cluster(broker)
    processes.start_worker("alpha", **first.environment())
    processes.start_worker("bravo", **second.environment())
    processes.start_beat()
    processes.wait_ready("alpha", "bravo")
    sale = scheduled(app, "Sale")
    try:
        broker.send("campaigns.start_send", sale.pk)
        # Both workers are in the middle of a batch: the provider has some of each.
        wait_for(lambda: accepted(first) and accepted(second), 45, "both workers send", 0.02)
        # A second notification's start waits in the broker behind them, and is lost with it.
        news = scheduled(app, "News")
        broker.send("campaigns.start_send", news.pk)
        redis_server.stop()
        news.refresh_from_db()
        assert news.status == Status.SCHEDULED  # its start was still in the broker
        # The broker stays down while the workers finish the batches they hold.
        wait_for(
            lambda: not in_flight(sale).exists(),
            45,
            lambda: f"the batches finish\n{processes.tails()}",
        )
        redis_server.start()

        wait_for(
            lambda: completed(sale) and completed(news),
            50,
            lambda: f"both sends complete\n{processes.tails()}",
        )
    finally:
        broker.close()

    per_delivery = Counter(pk for pk, _ in accepted(first, second))
    deliveries = set(
        Delivery.objects.filter(notification__in=[sale, news]).values_list("pk", flat=True)
    )
    assert len(deliveries) == 2 * DEVICES
    assert set(per_delivery) == deliveries, "every device receives both messages"
    assert set(per_delivery.values()) == {1}, "once each"
    assert statuses(sale) == statuses(news) == {DeliveryStatus.SENT: DEVICES}


# 4. The database refusing connections ------------------------------------------------------


def test_the_database_refusing_connections_mid_send_sends_each_message_once(
    app, gateways, broker, cluster
):
    database = connections["default"].settings_dict
    if connections["default"].vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: SQLite is a file each process opens, with no server connection "
            "to refuse"
        )
    add_devices(app, DEVICES)
    proxy = faults.TcpProxy(database.get("HOST") or "127.0.0.1", int(database.get("PORT") or 5432))
    gateway = gateways()
    processes = cluster(broker, faults.database_url(database, "127.0.0.1", proxy.port))
    try:
        processes.start_worker("alpha", **gateway.environment())
        processes.start_worker("bravo", **gateway.environment())
        processes.start_beat()
        processes.wait_ready("alpha", "bravo")
        notification = scheduled(app)

        broker.send("campaigns.start_send", notification.pk)
        # Refuse while a batch waits for its slow answers: its worker has the answers but
        # cannot write them.
        wait_for(lambda: accepted(gateway), 45, "the workers send", 0.02)
        proxy.refuse()
        # The database stays away until the provider has answered every chunk handed over and
        # a worker holding those answers has been refused a connection to write them.
        sending = notification.deliveries.filter(status=DeliveryStatus.SENDING)
        handed_over = set(sending.values_list("pk", flat=True))
        wait_for(
            lambda: handed_over <= {pk for pk, _ in accepted(gateway)},
            30,
            "the provider answers the chunks in flight",
        )
        refused_before = proxy.refused
        wait_for(
            lambda: proxy.refused > refused_before,
            30,
            lambda: f"a worker is refused the database\n{processes.tails()}",
        )
        proxy.accept()

        wait_for(
            lambda: completed(notification), 50, lambda: f"the send completes\n{processes.tails()}"
        )
    finally:
        processes.stop_all()
        proxy.close()

    per_delivery = Counter(pk for pk, _ in accepted(gateway))
    deliveries = set(notification.deliveries.values_list("pk", flat=True))
    assert len(deliveries) == DEVICES
    assert set(per_delivery) == deliveries, "every device receives its message"
    assert set(per_delivery.values()) == {1}, "once"
    final = statuses(notification)
    assert all(status in FINAL_DELIVERY_STATUSES for status in final)
    print(f"\nscenario 4: statuses {dict(final)}; {proxy.refused} connections refused")
    assert final == {DeliveryStatus.SENT: DEVICES}

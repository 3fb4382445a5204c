"""A process keeps its provider connections open across batches and notifications, and lets them
go when they idle, when their credential changes or goes, when the provider says GOAWAY, and
across fork.

Connections are counted where they end: the sandbox gateways count the TLS connections they
accept (`gateways.connections`) and hold open (`gateways.open_connections`).
"""

from __future__ import annotations

import json
import os
import uuid

import pytest
from django.utils import timezone

from campaigns import delivery
from campaigns.models import DeliveryStatus, Notification, Status
from devices import sample_credentials, sending
from devices.models import ApnsCredential, Device, MobileApp
from devices.providers import connections
from devices.providers.apns import ApnsClient, ApnsKey
from devices.providers.base import Outcome, Push
from devices.sandbox.server import GOAWAY_PREFIX
from tests.conftest import send_due, set_sending_rules
from tests.waiting import wait_for

pytest_plugins = ["tests.sandbox"]

# Three batches of campaigns.delivery.BATCH_SIZE (1,000), the last a partial one.
DEVICES = 2100
PUSH = {"apns-push-type": "alert", "apns-priority": "10"}
BODY = b'{"aps":{"alert":"Hello"}}'


@pytest.fixture(autouse=True)
def empty_pool():
    """Each test starts and ends with no pooled transport: counts are this test's own."""
    connections.pool.close_all()
    yield
    connections.pool.close_all()


@pytest.fixture
def kiosk(organization) -> MobileApp:
    """An app whose APNs credential authenticates with a .p12 certificate."""
    app = MobileApp.objects.create(organization=organization, name="kiosk", display_name="Kiosk")
    credential = ApnsCredential(
        app=app, auth_method=ApnsCredential.AuthMethod.CERTIFICATE, bundle_id="com.contoso.kiosk"
    )
    store_certificate(credential)
    return app


def store_certificate(credential: ApnsCredential) -> None:
    p12 = sample_credentials.p12_certificate(credential.bundle_id, "pass")
    credential.store_secret({"certificate_p12": p12.hex(), "certificate_password": "pass"})
    credential.save()


def add_devices(app: MobileApp, count: int, platform: str = "ios") -> None:
    now = timezone.now()
    Device.objects.bulk_create(
        Device(
            app=app,
            install_id=uuid.uuid4(),
            platform=platform,
            # "ab…": no sandbox fault starts so (dead, bad0, f00d, fa11, c0de, 5105, c105ed).
            push_token=f"ab{uuid.uuid4().hex}{number:030x}",
            locale="en-US",
            language="en",
            first_seen=now,
            last_seen=now,
        )
        for number in range(count)
    )


def device(app: MobileApp, token: str) -> Device:
    now = timezone.now()
    return Device.objects.create(
        app=app,
        install_id=uuid.uuid4(),
        platform="ios",
        push_token=token,
        locale="en-US",
        first_seen=now,
        last_seen=now,
    )


def send_to_everyone(app: MobileApp, name: str) -> Notification:
    """Send a notification to every device of the app the way a worker does: start, then claim
    and send batches until none is left (here, in this process)."""
    notification = Notification.objects.create(
        app=app,
        name=name,
        platforms=["ios"],
        status=Status.SCHEDULED,
        send_at=timezone.now(),
        title_en="Half price",
    )
    delivery.start(notification.pk)
    send_due(notification)
    return notification


def all_sent(notification: Notification) -> bool:
    statuses = set(notification.deliveries.values_list("status", flat=True))
    return statuses == {DeliveryStatus.SENT}


def send_one(app: MobileApp, token: str) -> Outcome:
    return sending.send_now(device(app, token), BODY, PUSH, str(uuid.uuid4())).outcome


def test_a_second_send_reuses_the_first_sends_connections(sandbox, retail):
    set_sending_rules(retail, min_interval_minutes=0, daily_maximum=0)  # no cap in the way
    add_devices(retail, DEVICES)
    before = sandbox.gateways.connections("apns")

    first = send_to_everyone(retail, "First")
    after_first = sandbox.gateways.connections("apns")
    second = send_to_everyone(retail, "Second")

    assert all_sent(first) and all_sent(second)
    assert len(sandbox.received("apns")) == 2 * DEVICES
    assert after_first > before
    assert sandbox.gateways.connections("apns") == after_first
    # and one provider token for the key across both sends (Apple: at most one new token per
    # 20 minutes, "Establishing a token-based connection to APNs")
    credential = retail.apns_credential
    assert sandbox.gateways.apns.tokens_seen(credential.team_id, credential.key_id) == 1


def test_a_test_send_uses_the_connections_of_the_sends(sandbox, retail):
    add_devices(retail, 10)
    send_to_everyone(retail, "First")
    after_send = sandbox.gateways.connections("apns")

    assert send_one(retail, "ab" * 32) == Outcome.SENT
    assert sandbox.gateways.connections("apns") == after_send


def test_connections_idle_longer_than_the_setting_are_replaced(sandbox, retail, settings):
    settings.PROVIDER_IDLE_SECONDS = 0  # every connection has idled too long by its next use
    assert send_one(retail, "ab" * 32) == Outcome.SENT
    after_first = sandbox.gateways.connections("apns")
    open_after_first = sandbox.gateways.open_connections("apns")

    assert send_one(retail, "cd" * 32) == Outcome.SENT

    assert sandbox.gateways.connections("apns") == after_first + 1
    wait_for(
        lambda: sandbox.gateways.open_connections("apns") == open_after_first,
        10,
        "the idle connection closed",
    )


def test_connections_idle_less_than_the_setting_are_kept(sandbox, retail, settings):
    settings.PROVIDER_IDLE_SECONDS = 3600
    assert send_one(retail, "ab" * 32) == Outcome.SENT
    after_first = sandbox.gateways.connections("apns")

    assert send_one(retail, "cd" * 32) == Outcome.SENT

    assert sandbox.gateways.connections("apns") == after_first


def test_a_changed_credential_gets_new_connections_and_its_old_ones_close(sandbox, kiosk):
    assert send_one(kiosk, "ab" * 32) == Outcome.SENT
    after_first = sandbox.gateways.connections("apns")
    open_after_first = sandbox.gateways.open_connections("apns")

    store_certificate(kiosk.apns_credential)  # a new .p12 uploaded in the dashboard
    kiosk.refresh_from_db()
    assert send_one(kiosk, "cd" * 32) == Outcome.SENT

    assert sandbox.gateways.connections("apns") == after_first + 1
    wait_for(
        lambda: sandbox.gateways.open_connections("apns") == open_after_first,
        10,
        "the old credential's connection closed",
    )
    assert connections.pool.idle_count() == 1


def test_a_deleted_credential_closes_its_connections(sandbox, retail):
    opened_before = sandbox.gateways.open_connections("apns")
    assert send_one(retail, "ab" * 32) == Outcome.SENT
    assert connections.pool.idle_count() == 1

    retail.apns_credential.delete()

    assert connections.pool.idle_count() == 0
    wait_for(
        lambda: sandbox.gateways.open_connections("apns") == opened_before,
        10,
        "the deleted credential's connection closed",
    )


def test_a_credential_check_closes_its_connections(sandbox, retail):
    opened_before = sandbox.gateways.open_connections("apns")

    [apns, fcm] = sending.validate_credentials(retail)

    assert apns.valid and fcm.valid
    assert connections.pool.idle_count() == 0
    wait_for(
        lambda: sandbox.gateways.open_connections("apns") == opened_before,
        10,
        "the check's connection closed",
    )


def test_a_push_after_goaway_goes_over_a_new_connection(sandbox, retail):
    assert send_one(retail, GOAWAY_PREFIX + "0" * 58) == Outcome.SENT
    after_goaway = sandbox.gateways.connections("apns")

    # Sent at once: the GOAWAY may reach libcurl before this push, or while it is on the wire
    # (refused, sent again): either way it must not be lost, and it goes over a new connection.
    assert send_one(retail, "ab" * 32) == Outcome.SENT

    assert sandbox.gateways.connections("apns") == after_goaway + 1
    statuses = [line["status"] for line in sandbox.received("apns")]
    assert statuses == [200, 200]


def test_a_forked_child_makes_its_own_connections_and_leaves_the_parents_alone(sandbox, retail):
    credential = retail.apns_credential.for_client()
    client = ApnsClient(credential, connections.transport_for(credential))
    [result] = client.send([push("ab" * 32)])
    assert result.outcome == Outcome.SENT
    after_parent = sandbox.gateways.connections("apns")

    child_said = in_forked_child(lambda: child_send(credential))

    assert child_said == {"inherited": 0, "outcome": "sent"}
    assert sandbox.gateways.connections("apns") == after_parent + 1  # the child's own
    # The parent's connection survived the child closing its copy: used again, not replaced.
    [again] = client.send([push("cd" * 32)])
    assert again.outcome == Outcome.SENT
    assert sandbox.gateways.connections("apns") == after_parent + 1


def push(token: str) -> Push:
    return Push(key=str(uuid.uuid4()), target=token, body=BODY, headers=PUSH)


def child_send(credential: ApnsKey) -> dict[str, object]:
    inherited = connections.pool.idle_count()
    client = ApnsClient(credential, connections.transport_for(credential))
    [result] = client.send([push("ef" * 32)])
    return {"inherited": inherited, "outcome": result.outcome.value}


def in_forked_child(work) -> dict[str, object]:
    """Run ``work`` in a forked child (no database: the parent's connection is not the child's)
    and return what it returned, as JSON through a pipe."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        code = 1
        try:
            os.write(write_end, json.dumps(work()).encode())
            code = 0
        finally:
            os._exit(code)  # no interpreter shutdown, no pytest teardown in the child
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        said = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, said
    return json.loads(said)

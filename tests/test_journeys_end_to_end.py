"""Journeys as they run in production: Beat finds new devices and due steps, a worker sends
them to the sandbox gateways over TLS, with each step's wait kept.

Everything is real (see tests/cluster.py); only the waits are short.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta

import pytest

from campaigns.models import Notification
from devices.registration import register_device
from journeys import events, services
from journeys.models import Enrollment, EnrollmentStatus, Journey, Trigger
from tests import faults
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
pytest_plugins = ["tests.cluster"]

STEP_WAIT = timedelta(seconds=4)


def journey(app, trigger: str, titles: list[str], **fields) -> Journey:
    made = Journey.objects.create(app=app, name=titles[0], trigger=trigger, **fields)
    for position, title in enumerate(titles):
        step = services.add_step(made)
        step.wait = STEP_WAIT if position else timedelta(0)
        step.save()
        Notification.objects.filter(pk=step.notification_id).update(
            platforms=["ios"],
            title_en=title,
            body_en="{{ event.product | default('Hello') }}, {{ user.id | default('friend') }}",
        )
    services.activate(made)
    return made


def ios(app, user_id: str) -> str:
    token = "ab" + uuid.uuid4().hex * 2  # no sandbox fault starts with "ab"
    register_device(app, uuid.uuid4(), {"platform": "ios", "push_token": token, "user_id": user_id})
    return token


def messages(gateway: faults.Gateways) -> dict[str, list[tuple[str, str, datetime]]]:
    """What each device received: (title, body, when), in order."""
    received = defaultdict(list)
    for line in gateway.received("apns"):
        if line["status"] == 200:
            alert = line["payload"]["aps"]["alert"]
            at = datetime.fromisoformat(line["at"])
            received[line["target"]].append((alert["title"], alert["body"], at))
    return received


def test_a_welcome_series_and_an_event_journey_run_through_beat_and_a_worker(
    app, gateways, broker, cluster
):
    known = ios(app, "known")
    journey(app, Trigger.FIRST_REGISTRATION, ["Welcome", "A tip for you"])
    sale = journey(app, Trigger.EVENT, ["On sale"], event_name="product_on_sale")
    gateway = gateways()
    processes = cluster(broker)
    processes.start_worker("alpha", **gateway.environment())
    processes.start_beat()
    processes.wait_ready("alpha")

    newcomers = {ios(app, f"new-{n}"): f"new-{n}" for n in range(3)}
    wait_for(
        lambda: all(len(messages(gateway)[token]) == 2 for token in newcomers),
        60,
        f"the welcome series reaches every new device\n{processes.tails()}",
    )
    events.record(
        app, "product_on_sale", user_ids=["new-0", "known"], properties={"product": "Boots"}
    )
    wait_for(
        lambda: len(messages(gateway)[known]) == 1,
        30,
        f"the event's journey sends\n{processes.tails()}",
    )

    received = messages(gateway)
    for token, user in newcomers.items():
        welcome, tip = received[token][:2]
        assert (welcome[0], welcome[1]) == ("Welcome", f"Hello, {user}")
        assert tip[0] == "A tip for you"
        assert tip[2] - welcome[2] >= STEP_WAIT - timedelta(seconds=0.5)
    assert [m[:2] for m in received[known]] == [("On sale", "Boots, known")]
    wait_for(lambda: len(messages(gateway)[list(newcomers)[0]]) == 3, 30, "new-0's sale message")
    assert messages(gateway)[list(newcomers)[0]][2][:2] == ("On sale", "Boots, new-0")
    assert set(Enrollment.objects.filter(journey=sale).values_list("status", flat=True)) == {
        EnrollmentStatus.COMPLETED
    }
    assert sum(len(lines) for lines in messages(gateway).values()) == 8

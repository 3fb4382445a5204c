"""Fixtures for tests that run the product as it runs in production: Celery workers and Beat as
processes of their own, on a broker private to the test, against the test database (which the
test opens with transactional access, so the workers see its rows), sending to sandbox
gateways over TLS sockets.

Use it from a test module:

    pytestmark = pytest.mark.django_db(transaction=True)
    pytest_plugins = ["tests.cluster"]
"""

from __future__ import annotations

import pytest
from django.conf import settings

from tests import faults
from tests.conftest import set_sending_rules

# Short, so a dead worker's batch is taken up again within the test; a live worker renews it.
LEASE_SECONDS = 15
# Beat's sweep (and the journeys' and A/B tests' runs): often, so waits end within a test.
SWEEP_SECONDS = 2


@pytest.fixture
def shared_database(transactional_db, tmp_path):
    """The test database as a URL the workers open (see faults.shared_database_url)."""
    with faults.shared_database_url(tmp_path) as url:
        yield url


@pytest.fixture
def app(shared_database, request):
    """contoso/retail in the shared database, without frequency caps."""
    retail = request.getfixturevalue("retail")
    set_sending_rules(retail, min_interval_minutes=0, daily_maximum=0)
    return retail


@pytest.fixture
def gateways(app):
    """Start sandbox gateways that know the app's credentials; stopped after the test."""
    started: list[faults.Gateways] = []

    def start() -> faults.Gateways:
        started.append(faults.Gateways(app))
        return started[-1]

    yield start
    for each in started:
        each.stop()


@pytest.fixture
def broker(tmp_path):
    """A broker of the run's kind (filesystem, or a Redis of its own) that no other worker
    reads."""
    with faults.private_broker(settings.CELERY_BROKER_URL, tmp_path) as private:
        yield private


@pytest.fixture
def cluster(shared_database, tmp_path):
    """Start workers and Beat with a database URL and a broker; all stopped after the test."""
    started: list[faults.Processes] = []

    def start(broker: faults.Broker, database_url: str = "") -> faults.Processes:
        environment = {
            "DATABASE_URL": database_url or shared_database,
            "PUSHCENTER_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
            "PUSHCENTER_SWEEP_SECONDS": str(SWEEP_SECONDS),
            **broker.environment,
        }
        started.append(faults.Processes(tmp_path, environment))
        return started[-1]

    yield start
    for processes in started:
        processes.stop_all()
        print(processes.tails())

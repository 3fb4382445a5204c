"""Run the sandbox gateways for the tests and point the providers' settings at them.

Use it from a test module (this registers the module's fixtures with pytest):

    pytest_plugins = ["tests.sandbox"]

    def test_it_delivers_to_apns(sandbox, retail):
        ...  # settings point at the gateways; retail's credentials are known to them
        [line] = sandbox.received("apns")
        assert line["status"] == 200

`sandbox` (function-scoped; uses pytest-django's `settings`) gives a `Sandbox`:
- `apns_url`, `fcm_url`, `fcm_token_url`, `wns_token_url`, `wns_legacy_token_url`,
  `ca_bundle`: what the settings now say (APNS_PRODUCTION_URL and APNS_DEVELOPMENT_URL,
  FCM_URL, FCM_TOKEN_URL, WNS_TOKEN_URL, WNS_LEGACY_TOKEN_URL, CA_BUNDLE); WNS_HOSTS becomes
  ["notify.windows.com", `wns_host`], PUSHCENTER_SANDBOX True, SANDBOX_DIR and the
  SANDBOX_*_PORT settings those of the running gateways. Override any of
  them further with `settings` as usual.
- `wns_host` ("localhost:PORT") and `channel_uri(token)` → "https://localhost:PORT/?token=…".
- `received(provider=None)`: the received.jsonl lines written during this test, parsed, oldest
  first; `provider` is "apns", "fcm", "wns", "fcm-token" or "wns-token".
- `register(*credentials_or_apps)`: make credentials known to the gateways (see below).
- `expire_access_tokens()`: every FCM and WNS access token issued so far is answered 401.
- `wrong_environment(credential_or_app)`: from now on, every device token pushed with that APNs
  credential (by its bundle ID, .voip and other variants included) is answered 400
  BadDeviceToken, as Apple answers tokens of the other environment (a production credential
  sending to development tokens, or the reverse) — after authentication and the other checks,
  before the prefix faults. Use it to test what a misconfigured credential must not do, such as
  retiring its whole audience:

      def test_a_wrong_environment_does_not_retire_everyone(sandbox, retail):
          sandbox.wrong_environment(retail)
          ...  # every APNs push of retail now comes back BadDeviceToken

- `wrong_topic(credential_or_app)`: the same, answering 400 DeviceTokenNotForTopic (the
  credential's bundle ID is not the devices' app).
- `gateways.apns.tokens_seen(team_id, key_id)`: how many distinct APNs provider tokens named
  that team and key during this test. The APNs gateway answers a connection that switches a
  key's token within 20 minutes 429 TooManyProviderTokenUpdates, judged by
  `gateways.apns.clock` (Apple's wall clock; a test may replace it to move time on).
- `gateways`: the `SandboxGateways` themselves (ports, recorder, the three gateway objects).
  `gateways.connections(provider)` counts the TLS connections that gateway ("apns", "fcm",
  "wns") has accepted since the session began, `gateways.open_connections(provider)` those
  open now: compare them before and after a send to see whether connections were reused.
  They are the session's gateways, so count differences, not totals; the pool of this process
  (devices.providers.connections.pool) keeps connections across tests unless emptied
  (`pool.close_all()`). An APNs device token starting with `c105ed` ends its connection with
  GOAWAY after its answer (devices/sandbox/server.py).

`running_gateways()` returns the session's gateways without touching settings. They start on
first use, on free ports, in a daemon thread of the test process (one event loop, hypercorn),
with their CA, certificate and received.jsonl in a temporary directory, and stop at exit.

Credentials: the gateways never read the database in tests. A test's rows live in its own
open transaction (pytest-django rolls it back), which another connection cannot see on
PostgreSQL and would lock on SQLite. Instead the fixture hands the gateways the public half of
every credential the test has: all ApnsCredential, FcmCredential and WnsCredential rows present
when the fixture starts (if the test has database access), every one saved while the test runs
(a post_save receiver), and whatever the test passes to `sandbox.register` (unsaved ones too).
So `def test(sandbox, retail)` and `def test(retail, sandbox)` both work, on either database.
Registrations, flaky-target counts, verified and counted APNs provider tokens (and the
token updates connections remember), wrong-environment and wrong-topic marks and the APNs
gateway's clock start over with each test; issued access tokens are kept, as the real services
keep them, until expired.
(The management command's database path is tested with `django_db(transaction=True)`.)
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db.models.signals import post_save

from devices.models import ApnsCredential, FcmCredential, MobileApp, WnsCredential
from devices.sandbox.directory import CredentialDirectory
from devices.sandbox.server import HOST, GatewayThread, SandboxGateways

LATE_TARGETS = ("5105", "slow")
CREDENTIAL_MODELS = (ApnsCredential, FcmCredential, WnsCredential)
DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}

_started: GatewayThread | None = None
_start_lock = threading.Lock()


def running_gateways() -> SandboxGateways:
    """Return the gateways of this test session, starting them on first use."""
    global _started
    with _start_lock:
        if _started is None:
            directory = Path(tempfile.mkdtemp(prefix="pushcenter-sandbox-"))
            gateways = SandboxGateways(directory, CredentialDirectory(database=False))
            thread = GatewayThread(gateways)
            thread.start()
            atexit.register(_stop, thread, directory)
            _started = thread
        return _started.gateways


def _stop(thread: GatewayThread, directory: Path) -> None:
    thread.stop()
    shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Sandbox:
    """The running gateways as one test sees them."""

    gateways: SandboxGateways
    offset: int  # where this test's lines start in received.jsonl

    @property
    def apns_url(self) -> str:
        return self.gateways.url("apns")

    @property
    def fcm_url(self) -> str:
        return self.gateways.url("fcm")

    @property
    def fcm_token_url(self) -> str:
        return f"{self.gateways.url('fcm')}/token"

    @property
    def wns_token_url(self) -> str:
        return self.gateways.url("wns")

    @property
    def wns_legacy_token_url(self) -> str:
        return f"{self.gateways.url('wns')}/accesstoken.srf"

    @property
    def wns_host(self) -> str:
        return f"{HOST}:{self.gateways.ports['wns']}"

    @property
    def ca_bundle(self) -> str:
        return str(self.gateways.certificates.ca)

    def channel_uri(self, token: str) -> str:
        return f"https://{self.wns_host}/?token={token}"

    def received(self, provider: str | None = None) -> list[dict[str, Any]]:
        lines = self.gateways.recorder.read(self.offset)
        return [line for line in lines if provider is None or line["provider"] == provider]

    def reached(self) -> bool:
        """Tell whether this test reached a gateway at all.

        A slow target (`5105…`, `slow…`) of an earlier test may still be answered, and so
        recorded, while this one runs; it does not count.
        """
        return any(not line["target"].startswith(LATE_TARGETS) for line in self.received())

    def register(self, *credentials_or_apps: Any) -> None:
        self.gateways.credentials.register(*credentials_or_apps)

    def expire_access_tokens(self) -> None:
        self.gateways.expire_access_tokens()

    def wrong_environment(self, credential_or_app: ApnsCredential | MobileApp) -> None:
        """Answer every device token of this APNs credential 400 BadDeviceToken."""
        self.gateways.apns.wrong_environment(_bundle_id(credential_or_app))

    def wrong_topic(self, credential_or_app: ApnsCredential | MobileApp) -> None:
        """Answer every device token of this APNs credential 400 DeviceTokenNotForTopic."""
        self.gateways.apns.wrong_topic(_bundle_id(credential_or_app))


@pytest.fixture
def sandbox(settings, request) -> Any:
    """Point the providers at the session's gateways and tell them this test's credentials."""
    gateways = running_gateways()
    gateways.credentials.forget_registered()
    gateways.reset()
    current = Sandbox(gateways, gateways.recorder.size())
    _point_settings_at(settings, current)

    def register_saved(sender: type, instance: Any, **kwargs: Any) -> None:
        current.register(instance)

    for model in CREDENTIAL_MODELS:
        post_save.connect(register_saved, sender=model, weak=False, dispatch_uid=_uid(model))
    if _has_database_access(request):
        request.getfixturevalue("db")  # set up now, even if the test names `db` after us
        for model in CREDENTIAL_MODELS:
            current.register(*model.objects.all())
    yield current
    for model in CREDENTIAL_MODELS:
        post_save.disconnect(sender=model, dispatch_uid=_uid(model))
    gateways.credentials.forget_registered()


@pytest.fixture(scope="session")
def sandbox_gateways() -> SandboxGateways:
    """The session's gateways, without settings (for module- or session-scoped fixtures)."""
    return running_gateways()


def _point_settings_at(settings: Any, current: Sandbox) -> None:
    gateways = current.gateways
    settings.PUSHCENTER_SANDBOX = True
    settings.APNS_PRODUCTION_URL = current.apns_url
    settings.APNS_DEVELOPMENT_URL = current.apns_url
    settings.FCM_URL = current.fcm_url
    settings.FCM_TOKEN_URL = current.fcm_token_url
    settings.WNS_TOKEN_URL = current.wns_token_url
    settings.WNS_LEGACY_TOKEN_URL = current.wns_legacy_token_url
    settings.WNS_HOSTS = ["notify.windows.com", current.wns_host]
    settings.CA_BUNDLE = current.ca_bundle
    settings.SANDBOX_DIR = gateways.directory
    settings.SANDBOX_APNS_PORT = gateways.ports["apns"]
    settings.SANDBOX_FCM_PORT = gateways.ports["fcm"]
    settings.SANDBOX_WNS_PORT = gateways.ports["wns"]


def _has_database_access(request: pytest.FixtureRequest) -> bool:
    if request.node.get_closest_marker("django_db") is not None:
        return True
    return bool(DATABASE_FIXTURES & set(request.fixturenames))


def _bundle_id(credential_or_app: ApnsCredential | MobileApp) -> str:
    if isinstance(credential_or_app, MobileApp):
        return credential_or_app.apns_credential.bundle_id
    return credential_or_app.bundle_id


def _uid(model: type) -> str:
    return f"tests.sandbox.register:{model.__name__}"

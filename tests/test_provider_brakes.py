"""Brakes: answers that would retire most of an audience hold the provider instead.

APNs answers BadDeviceToken for every token of the other environment and DeviceTokenNotForTopic
for a wrong bundle ID; FCM answers SENDER_ID_MISMATCH for every token when the service account
is another project's. Retiring on those would empty the audience. The providers are the sandbox
gateways, over real sockets; their fault prefixes stand for the misconfigured credential.
"""

from __future__ import annotations

import socket
import uuid

from django.urls import reverse
from django.utils import timezone

from campaigns import delivery
from campaigns.models import Delivery, DeliveryStatus, Notification, Status
from devices import provider_health
from devices.models import Device, DeviceStatus, ProviderHealth
from devices.registration import register_device
from tests.conftest import PASSWORD, send_due, set_sending_rules

pytest_plugins = ["tests.sandbox"]

BAD = "bad0"  # the gateway answers this token 400 BadDeviceToken


def devices(app, platform: str, tokens: list[str]) -> list[Device]:
    return [
        register_device(app, uuid.uuid4(), {"platform": platform, "push_token": token})[0]
        for token in tokens
    ]


def apns_tokens(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n:060d}" for n in range(count)]


def send(app, platforms=("ios", "android")) -> Notification:
    sale = Notification.objects.create(
        app=app,
        name="Sale",
        platforms=list(platforms),
        status=Status.SCHEDULED,
        send_at=timezone.now(),
        title_en="Half price",
    )
    delivery.start(sale.pk)
    send_due(sale)
    return sale


def retired(app) -> int:
    return Device.objects.filter(app=app).exclude(status=DeviceStatus.ACTIVE).count()


def test_a_wrong_apns_environment_retires_nobody_and_holds_ios(sandbox, no_caps):
    devices(no_caps, "ios", apns_tokens("abcd", 25))
    devices(no_caps, "android", ["android-token-1"])
    sandbox.wrong_environment(no_caps)  # every token answers BadDeviceToken, as Apple does

    sale = send(no_caps)

    assert retired(no_caps) == 0
    health = ProviderHealth.objects.get(app=no_caps, platform="ios")
    assert health.suspended_at is not None
    assert "BadDeviceToken for 25 of 25 devices" in health.suspect_reason
    assert "environment (Production or Sandbox)" in health.suspect_reason
    held = sale.deliveries.filter(platform="ios")
    assert {d.status for d in held} == {DeliveryStatus.QUEUED}
    assert all(d.reason.startswith("Held: APNs answered BadDeviceToken") for d in held)
    assert all(d.attempts == 0 for d in held)  # waiting on the credential costs no try
    assert all(d.tries.get().reason.startswith("BadDeviceToken") for d in held)
    assert sale.deliveries.get(platform="android").status == DeliveryStatus.SENT


def test_a_wrong_bundle_id_retires_nobody_and_says_so(sandbox, no_caps):
    devices(no_caps, "ios", apns_tokens("abcd", 25))
    sandbox.wrong_topic(no_caps)  # every token answers DeviceTokenNotForTopic

    send(no_caps, platforms=["ios"])

    assert retired(no_caps) == 0
    reason = ProviderHealth.objects.get(app=no_caps, platform="ios").suspect_reason
    assert "DeviceTokenNotForTopic for 25 of 25" in reason and "bundle ID" in reason


def test_a_held_provider_sends_nothing_more_until_its_credential_changes(sandbox, no_caps):
    devices(no_caps, "ios", apns_tokens(BAD, 25))
    send(no_caps)
    asked = len(sandbox.received("apns"))

    later = send(no_caps, platforms=["ios"])

    assert len(sandbox.received("apns")) == asked
    assert {d.reason[:5] for d in later.deliveries.all()} == {"Held:"}


def test_correcting_the_credential_resumes_the_held_deliveries(sandbox, no_caps):
    devices(no_caps, "ios", apns_tokens(BAD, 25))
    sale = send(no_caps, platforms=["ios"])

    credential = no_caps.apns_credential
    credential.environment = credential.Environment.SANDBOX
    credential.save()

    health = ProviderHealth.objects.get(app=no_caps, platform="ios")
    assert health.suspended_at is None and health.suspect_reason == ""
    assert all(d.not_before <= timezone.now() for d in sale.deliveries.all())


def test_a_validation_result_is_not_a_credential_change(sandbox, no_caps):
    devices(no_caps, "ios", apns_tokens(BAD, 25))
    send(no_caps, platforms=["ios"])

    no_caps.apns_credential.record_validation(True, "APNs accepted the credentials")

    assert ProviderHealth.objects.get(app=no_caps, platform="ios").suspended_at is not None


def test_a_trusted_credential_retires_the_devices_it_says_are_gone(sandbox, no_caps):
    devices(no_caps, "ios", apns_tokens(BAD, 25))
    sale = send(no_caps, platforms=["ios"])

    provider_health.resume(no_caps, "ios", trusted=True)
    send_due(sale)

    assert retired(no_caps) == 25
    assert {d.status for d in sale.deliveries.all()} == {DeliveryStatus.FAILED}


def test_a_few_gone_devices_among_many_are_retired(sandbox, no_caps):
    devices(no_caps, "ios", apns_tokens("dead", 5) + apns_tokens("aaaa", 30))

    send(no_caps, platforms=["ios"])

    assert retired(no_caps) == 5
    assert not ProviderHealth.objects.filter(app=no_caps, suspended_at__isnull=False).exists()


def test_every_answer_of_a_first_batch_holds_even_when_small(sandbox, no_caps):
    devices(no_caps, "ios", apns_tokens("dead", provider_health.FIRST_BATCH_MINIMUM))

    send(no_caps, platforms=["ios"])

    assert retired(no_caps) == 0
    reason = ProviderHealth.objects.get(app=no_caps, platform="ios").suspect_reason
    assert reason.startswith("APNs answered Unregistered for 5 of 5 devices")


def test_one_uninstalled_app_is_retired_without_holding_anything(sandbox, no_caps):
    # A transactional send to one person whose app is gone must not hold the whole provider.
    devices(no_caps, "ios", apns_tokens("dead", 1))

    send(no_caps, platforms=["ios"])

    assert retired(no_caps) == 1
    assert not ProviderHealth.objects.filter(app=no_caps, suspended_at__isnull=False).exists()


def test_a_wrong_firebase_project_retires_nobody_and_holds_android(sandbox, no_caps):
    devices(no_caps, "android", [f"other-{n}" for n in range(25)])
    devices(no_caps, "ios", apns_tokens("aaaa", 1))

    sale = send(no_caps)

    assert retired(no_caps) == 0
    reason = ProviderHealth.objects.get(app=no_caps, platform="android").suspect_reason
    assert reason.startswith("FCM answered SENDER_ID_MISMATCH for 25 of 25 devices")
    assert "another Firebase project" in reason
    assert sale.deliveries.get(platform="ios").status == DeliveryStatus.SENT


def test_the_app_page_says_why_a_provider_is_held_and_offers_to_trust_it(
    client, alice, sandbox, no_caps
):
    devices(no_caps, "ios", apns_tokens(BAD, 25))
    send(no_caps, platforms=["ios"])
    client.login(username="alice", password=PASSWORD)

    page = client.get(reverse("admin:devices_mobileapp_change", args=[no_caps.pk]))
    assert "held since" in page.text and "BadDeviceToken for 25 of 25" in page.text
    assert 'form="trust-ios-form"' in page.text

    trust = reverse("admin:devices_mobileapp_trust", args=[no_caps.pk, "ios"])
    answer = client.post(trust)

    assert answer.status_code == 302
    health = ProviderHealth.objects.get(app=no_caps, platform="ios")
    assert health.suspended_at is None and health.trusted_until > timezone.now()
    assert Delivery.objects.filter(not_before__gt=timezone.now()).count() == 0


def test_a_marketer_cannot_trust_a_credential(client, bob, sandbox, no_caps):
    client.login(username="bob", password=PASSWORD)

    answer = client.post(reverse("admin:devices_mobileapp_trust", args=[no_caps.pk, "ios"]))

    assert answer.status_code == 403


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_300_unreachable_channel_hosts_never_hold_up_a_good_channel(sandbox, news, settings):
    # Anyone holding an app's key may register channels; hosts that refuse connections are
    # their devices' trouble, never a reason to pause WNS for the app's other devices.
    set_sending_rules(news, min_interval_minutes=0)
    dead_host = f"localhost:{closed_port()}"
    settings.WNS_HOSTS = [*settings.WNS_HOSTS, dead_host]
    for n in range(300):
        devices_with(news, channel_uri=f"https://{dead_host}/?token=dead{n}")
    good = devices_with(news, channel_uri=sandbox.channel_uri("good"))
    first = send(news, platforms=["windows"])
    assert first.deliveries.filter(status=DeliveryStatus.QUEUED).count() == 300

    second = send(news, platforms=["windows"])

    assert second.deliveries.get(device=good).status == DeliveryStatus.SENT
    assert not ProviderHealth.objects.filter(app=news, failures__gt=0).exists()
    assert not ProviderHealth.objects.filter(app=news, suspended_at__isnull=False).exists()


def devices_with(app, **address) -> Device:
    return register_device(app, uuid.uuid4(), {"platform": "windows", **address})[0]


def test_an_unreadable_credential_retires_nobody_and_counts_against_its_provider(sandbox, no_caps):
    devices(no_caps, "ios", apns_tokens("abcd", 6))
    credential = no_caps.apns_credential
    credential.encrypted_secret = "not a fernet token"  # an encryption key lost, say
    credential.save()

    sale = send(no_caps, platforms=["ios"])

    waiting = Delivery.objects.filter(notification=sale, status=DeliveryStatus.QUEUED)
    assert waiting.count() == 6
    assert retired(no_caps) == 0
    health = ProviderHealth.objects.get(app=no_caps, platform="ios")
    assert health.failures == 1
    assert "unreadable" in health.last_error

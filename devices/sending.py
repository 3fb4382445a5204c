"""Reach an app's devices through its providers: a client per platform, credential validation,
a one-off test send, and what a provider's answer does to the device it was for."""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass

from django.utils import timezone

from devices.models import Device, DeviceStatus, MobileApp, ProviderCredential
from devices.providers import connections
from devices.providers.apns import ApnsClient
from devices.providers.base import Outcome, ProviderError, Push, Result
from devices.providers.fcm import FcmClient
from devices.providers.wns import WnsClient

CREDENTIALS = {"ios": "apns_credential", "android": "fcm_credential", "windows": "wns_credential"}
CLIENTS = {"ios": ApnsClient, "android": FcmClient, "windows": WnsClient}
Client = ApnsClient | FcmClient | WnsClient
PROVIDER_NAMES = {"ios": "APNs", "android": "FCM", "windows": "WNS"}


def credential(app: MobileApp, platform: str) -> ProviderCredential | None:
    """Return the app's credential for a platform, or None."""
    return getattr(app, CREDENTIALS[platform], None)


def client_for(app: MobileApp, platform: str) -> Client:
    """Return a client for the app's platform; ProviderError when it has no credential.

    The client sends over the process's pooled connections for that credential
    (devices.providers.connections): closing the client leaves them open for the next batch.
    """
    stored = _credential_or_error(app, platform)
    return CLIENTS[platform](stored, connections.transport_for(stored))


def _credential_or_error(app: MobileApp, platform: str) -> ProviderCredential:
    stored = credential(app, platform)
    if stored is None:
        raise ProviderError(
            f"{app} has no {PROVIDER_NAMES[platform]} credentials; add them on the app page.",
            permanent=True,
        )
    return stored


@dataclass(frozen=True)
class Validation:
    platform: str
    provider: str
    valid: bool
    message: str


def validate_credentials(app: MobileApp) -> list[Validation]:
    """Prove each of the app's credentials against its provider and store what it answered."""
    results = []
    for platform in app.platforms():
        stored = credential(app, platform)
        try:
            # Its own connections, closed after: a credential being checked may be new or
            # wrong, and its connections are not worth keeping for sends.
            with closing(CLIENTS[platform](stored)) as client:
                valid, message = client.validate()
        except ProviderError as error:
            valid, message = False, error.message
        stored.record_validation(valid, message)
        results.append(Validation(platform, PROVIDER_NAMES[platform], valid, message))
    return results


def target_of(device: Device) -> str:
    """Return where a device is reached: its token, or its WNS channel URI."""
    return device.channel_uri if device.platform == "windows" else device.push_token


def send_now(device: Device, body: bytes, headers: dict[str, str], key: str) -> Result:
    """Send one push to one device now and apply the answer to the device."""
    push = Push(key=key, target=target_of(device) or "", body=body, headers=headers)
    result = client_for(device.app, device.platform).send([push])[0]
    apply_result(device, result)
    return result


def apply_result(device: Device, result: Result) -> None:
    """Retire a device whose token or channel the provider says is gone for good."""
    if result.outcome != Outcome.DEVICE_GONE or device.status != DeviceStatus.ACTIVE:
        return
    gone = (
        DeviceStatus.CHANNEL_EXPIRED if device.platform == "windows" else DeviceStatus.TOKEN_INVALID
    )
    device.status, device.retired_at = gone, timezone.now()
    device.save(update_fields=["status", "retired_at"])


def describe(result: Result) -> str:
    """Say what the provider answered, as it came."""
    parts = [f"{result.outcome.value.replace('_', ' ')}", f"HTTP {result.status or '-'}"]
    if result.reason:
        parts.append(result.reason)
    if result.detail:
        parts.append(result.detail)
    if result.provider_id:
        parts.append(f"id {result.provider_id}")
    if result.retry_after is not None:
        parts.append(f"retry after {result.retry_after:g} s")
    return " · ".join(parts)

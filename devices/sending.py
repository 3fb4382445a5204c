"""Reach an app's devices through its providers: a client per platform, credential validation,
a one-off test send, and what a provider's answer does to the device it was for."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Protocol

from django.utils import timezone

from devices.models import Device, DeviceStatus, MobileApp, ProviderCredential
from devices.providers import connections, registry
from devices.providers.base import AddressGone, Outcome, ProviderError, Push, Result

# The registered devices a validation tries silently, most recently seen first.
PROBED_DEVICES = 3
# What a device becomes when its provider says its address is gone for good.
RETIRED_AS = {
    AddressGone.TOKEN_INVALID: DeviceStatus.TOKEN_INVALID,
    AddressGone.CHANNEL_EXPIRED: DeviceStatus.CHANNEL_EXPIRED,
}


class Client(Protocol):
    """What every provider's client does (apns.ApnsClient, fcm.FcmClient, wns.WnsClient)."""

    def send(self, pushes: Sequence[Push]) -> list[Result]: ...

    def validate(self) -> tuple[bool, str]: ...

    def close(self) -> None: ...


def credential(app: MobileApp, platform: str) -> ProviderCredential | None:
    """Return the app's credential for a platform, or None."""
    return getattr(app, registry.provider(platform).credential, None)


def client_for(app: MobileApp, platform: str) -> Client:
    """Return a client for the app's platform; ProviderError when it has no credential.

    The client sends over the process's pooled connections for that credential
    (devices.providers.connections): closing the client leaves them open for the next batch.
    A credential whose secret cannot be read is a ProviderError too.
    """
    readable = _credential_or_error(app, platform).for_client()
    return registry.provider(platform).client(readable, connections.transport_for(readable))


def _credential_or_error(app: MobileApp, platform: str) -> ProviderCredential:
    stored = credential(app, platform)
    if stored is None:
        raise ProviderError(
            f"{app} has no {registry.NAMES[platform]} credentials; add them on the app page.",
            permanent=True,
        )
    return stored


@dataclass(frozen=True)
class Validation:
    platform: str
    provider: str
    valid: bool
    message: str


def validate_credentials(app: MobileApp, platforms: Sequence[str] = ()) -> list[Validation]:
    """Prove each of the app's credentials (or those of `platforms`) against its provider and
    store what it answered.

    Where the provider has a silent check and the app has registered devices, a few of them are
    tried too: a wrong environment, topic or project shows before a campaign does.
    """
    results = []
    for platform in app.platforms():
        if platforms and platform not in platforms:
            continue
        stored = credential(app, platform)
        try:
            # Its own connections, closed after: a credential being checked may be new or
            # wrong, and its connections are not worth keeping for sends.
            with closing(registry.provider(platform).client(stored.for_client())) as client:
                valid, message = client.validate()
                if valid:
                    valid, message = _probe_devices(client, app, platform, message)
        except ProviderError as error:
            valid, message = False, error.message
        stored.record_validation(valid, message)
        results.append(Validation(platform, registry.NAMES[platform], valid, message))
    return results


def _probe_devices(client: Client, app: MobileApp, platform: str, proved: str) -> tuple[bool, str]:
    """Try the app's latest devices silently; valid unless every one of them was refused."""
    provider = registry.provider(platform)
    if provider.probe is None:
        return True, f"{proved} {provider.name} has no silent check for a registered device."
    devices = list(
        app.devices.filter(platform=platform, status=DeviceStatus.ACTIVE)
        .exclude(**{f"{provider.address}__isnull": True})
        .order_by("-last_seen")[:PROBED_DEVICES]
    )
    if not devices:
        return True, f"{proved} No registered device to try yet."
    answers = client.send([provider.probe(target_of(device)) for device in devices])
    reached = sum(result.outcome == Outcome.SENT for result in answers)
    if reached:
        return True, f"{proved} A silent check reached {reached} of {len(devices)} devices."
    return False, (
        f"{proved} But it refused every registered device tried ({len(devices)}): "
        f"{describe(answers[0])}. The credential's environment, bundle ID or project is likely "
        "not the one the app's builds registered with."
    )


def target_of(device: Device) -> str:
    """Return where a device is reached: its token, or its WNS channel URI."""
    return getattr(device, registry.provider(device.platform).address) or ""


def send_now(device: Device, body: bytes, headers: dict[str, str], key: str) -> Result:
    """Send one push to one device now and apply the answer to the device."""
    push = Push(key=key, target=target_of(device), body=body, headers=headers)
    result = client_for(device.app, device.platform).send([push])[0]
    apply_result(device, result)
    return result


def apply_result(device: Device, result: Result) -> None:
    """Retire a device whose token or channel the provider says is gone for good."""
    if result.outcome != Outcome.DEVICE_GONE or device.status != DeviceStatus.ACTIVE:
        return
    device.status, device.retired_at = retired_as(device.platform), timezone.now()
    device.save(update_fields=["status", "retired_at"])


def retire_gone(platform: str, device_ids: Sequence[int]) -> None:
    """Retire the active devices of one platform whose addresses its provider said are gone."""
    if device_ids:
        Device.objects.filter(pk__in=device_ids, status=DeviceStatus.ACTIVE).update(
            status=retired_as(platform), retired_at=timezone.now()
        )


def retired_as(platform: str) -> str:
    """Return what a device of the platform becomes when its address is gone for good."""
    return RETIRED_AS[registry.provider(platform).retired_as]


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

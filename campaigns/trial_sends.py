"""Test sends: one notification, or a short test message, to one device now, with the answer.

The product calls these test sends (the composer's "Send a test", the device page's button);
the module is named trial_sends so that it is not taken for a test module.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError

from campaigns import content, personalization
from campaigns.models import Notification
from devices import sending
from devices.models import Device, DeviceStatus
from devices.providers import registry
from devices.providers.base import Result
from devices.providers.message import Message, check_size

TEST_TITLE = "Test from Push Center"
TEST_BODY = "If you can read this, {app} reaches this device."


def send_notification(notification: Notification, device: Device) -> Result:
    """Send the notification to one device as the send would: its language, its personalization."""
    _check_reachable(device)
    if device.app_id != notification.app_id:
        raise ValidationError(f"That device belongs to {device.app}, not {notification.app}.")
    if device.platform not in notification.platforms:
        raise ValidationError(f"This notification is not sent to {device.platform} devices.")
    language = content.language_for(notification, device.locale)
    context = personalization.device_context(device, notification.app)
    message = content.message(notification, device.platform, language, context=context)
    return _send(device, message)


def send_test_message(device: Device) -> Result:
    """Send a short test message to one device."""
    _check_reachable(device)
    kind = registry.provider(device.platform).default_kind
    body = TEST_BODY.format(app=device.app.display_name)
    return _send(device, Message(kind=kind, title=TEST_TITLE, body=body, sound="default"))


def _check_reachable(device: Device) -> None:
    if device.status != DeviceStatus.ACTIVE:
        raise ValidationError(
            f"This device is {device.get_status_display().lower()}; nothing is sent to it."
        )


def _send(device: Device, message: Message) -> Result:
    payload = registry.render(device.platform, message, token=device.push_token or "")
    check_size(payload)
    return sending.send_now(device, payload.body, payload.headers, key=str(uuid.uuid4()))

"""Render a batch's pushes, once per platform and language where every device reads the same.

A notification without personalization shows every device of a platform the same text in the
same language; only the delivery's tracking id and, for FCM, the device token (which FCM
carries in the message itself) differ. Such a payload is rendered once with markers in their
place, and each device's values are put where the markers are. A marker is letters and digits
only, and a value is put in only when it is made of characters that JSON, XML and percent-
quoting all write as they are; any other value, and any personalized text, is rendered for its
device alone. Both ways give the same bytes (tests/test_batch_rendering.py).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from campaigns import content, launches, personalization
from campaigns.claimed import ClaimedDelivery
from campaigns.models import Notification
from devices import sending
from devices.providers import registry
from devices.providers.base import Push
from devices.providers.message import Payload, PayloadTooLarge, check_size

# Characters every renderer writes unchanged: in a JSON string, XML text or attribute, and a
# percent-quoted launch argument (RFC 3986 unreserved, plus ':' for FCM tokens in JSON only).
_AS_WRITTEN = {
    "tracking_id": re.compile(r"[A-Za-z0-9_.~-]*"),
    "token": re.compile(r"[A-Za-z0-9_.~:-]*"),
}


@dataclass(frozen=True)
class _Shared:
    """A payload rendered once, with markers where each device's values go."""

    payload: Payload
    tracking_marker: bytes
    token_marker: bytes

    def push(self, key: str, target: str, tracking_id: str, token: str) -> Push:
        body = self.payload.body.replace(self.tracking_marker, tracking_id.encode())
        body = body.replace(self.token_marker, token.encode())
        if len(body) > self.payload.limit:
            raise PayloadTooLarge(replace(self.payload, body=body))
        return Push(key, target, body, self.payload.headers)


class BatchRenderer:
    """Render the pushes of one notification's batch, sharing what devices have in common."""

    def __init__(self, notification: Notification, now: datetime) -> None:
        self.notification, self.now = notification, now
        self.personal = content.is_personal(notification)
        self._languages: dict[str, str] = {}
        self._shared: dict[tuple[str, str], _Shared] = {}

    def push(self, delivery: ClaimedDelivery) -> Push:
        """Return the delivery's push, and set the language its device gets on it.

        Raises ValueError (a payload too large, a text its provider refuses) or
        personalization.PersonalizationError, as rendering for the one device would.
        """
        device = delivery.device
        language = delivery.language = self._language(device.locale)
        tracking_id = launches.tracking_id(delivery.pk)
        token = device.push_token or ""
        target = sending.target_of(device)
        if self.personal or not (
            _AS_WRITTEN["tracking_id"].fullmatch(tracking_id)
            and _AS_WRITTEN["token"].fullmatch(token)
        ):
            return self._own_push(delivery, language, tracking_id, target)
        shared = self._shared_payload(device.platform, language)
        return shared.push(str(delivery.pk), target, tracking_id, token)

    def _language(self, locale: str) -> str:
        if locale not in self._languages:
            self._languages[locale] = content.language_for(self.notification, locale)
        return self._languages[locale]

    def _shared_payload(self, platform: str, language: str) -> _Shared:
        key = (platform, language)
        if key not in self._shared:
            tracking_marker, token_marker = _marker(), _marker()
            message = content.message(
                self.notification, platform, language, tracking_id=tracking_marker
            )
            payload = registry.render(platform, message, now=self.now, token=token_marker)
            self._shared[key] = _Shared(payload, tracking_marker.encode(), token_marker.encode())
        return self._shared[key]

    def _own_push(
        self, delivery: ClaimedDelivery, language: str, tracking_id: str, target: str
    ) -> Push:
        device, notification = delivery.device, self.notification
        context = personalization.device_context(device, notification.app, delivery.properties)
        message = content.message(
            notification, device.platform, language, context=context, tracking_id=tracking_id
        )
        payload = registry.render(
            device.platform, message, now=self.now, token=device.push_token or ""
        )
        check_size(payload)
        return Push(str(delivery.pk), target, payload.body, payload.headers)


def _marker() -> str:
    """A value no text contains, written unchanged by every renderer."""
    return f"pushcenter{secrets.token_hex(16)}"

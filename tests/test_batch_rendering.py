"""A batch's pushes rendered once per platform and language are the bytes each device's own
rendering gives: the tracking id and the FCM token put in place, nothing else changed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import content, launches
from campaigns.claimed import ClaimedDelivery
from campaigns.models import Notification
from campaigns.rendering import BatchRenderer
from devices.models import Device, MobileApp
from devices.providers import registry
from devices.providers.message import PayloadTooLarge

NOW = timezone.now()
CHANNEL = "https://db5p.notify.windows.com/w/?token=AwYAAAD%2b" + "x" * 40
INPUTS = [{"id": "reply", "type": "text", "title": "Reply", "placeholder": "Say something"}]
ACTIONS = [{"content": "Send", "arguments": "send", "input_id": "reply"}]
TILES = [{"size": "medium", "texts": ["Sale", "Today only"]}]

NOTIFICATIONS = {
    "standard in two languages": {
        "title_en": "Half price",
        "body_en": 'Jackets & boots, "today" only',
        "languages": ["fr"],
        "title_fr": "Moitié prix",
        "body_fr": "Vestes et bottes <aujourd'hui>",
        "url": "https://contoso.example/sale?a=1&b=2",
        "on_click": "url",
        "image_url": "https://contoso.example/sale.png",
        "sound": "default",
        "badge": 3,
        "custom_data": {"campaign": "weekend & more"},
        "expires_at": NOW + timedelta(hours=6),
    },
    "toast with inputs and buttons": {
        "template": "toast",
        "title_en": "Reply?",
        "inputs": INPUTS,
        "actions": ACTIONS,
        "custom_data": {"order": "17 & 18"},
    },
    "tile": {"template": "tile", "title_en": "", "tile_bindings": TILES},
    "silent": {"template": "silent", "title_en": "", "custom_data": {"sync": "now"}},
    "badge only": {"template": "badge", "title_en": "", "badge": 7, "badge_glyph": "alert"},
    "launches not tracked": {"title_en": "Hello", "track_launches": False},
}


@pytest.fixture
def app(db) -> MobileApp:
    return MobileApp(name="retail", display_name="Retail", custom_property_types={})


def device(pk: int, platform: str, locale: str = "en-US", **fields: object) -> Device:
    address = {
        "ios": {"push_token": f"{pk:064x}"},
        "android": {"push_token": f"bench{pk:011d}:APA91b-_x" + "y" * 100},
        "windows": {"channel_uri": CHANNEL, "channel_expires_at": NOW + timedelta(days=3)},
    }[platform]
    values = {"install_id": uuid.uuid4(), "platform": platform, "locale": locale, **address}
    return Device(pk=pk, **{**values, **fields})


def claimed(pk: int, device: Device) -> ClaimedDelivery:
    return ClaimedDelivery(pk, 1, device.pk, 1, None, "", None, None, device)


def deliveries(notification: Notification) -> list[ClaimedDelivery]:
    devices = [
        device(n, platform, locale)
        for n, (platform, locale) in enumerate(
            [(p, loc) for p in ("ios", "android", "windows") for loc in ("en-US", "fr-CA", "de")],
            start=1,
        )
    ]
    return [claimed(1000 + d.pk, d) for d in devices]


def own_rendering(notification: Notification, delivery: ClaimedDelivery) -> tuple[bytes, dict]:
    """What one device's own rendering gives, without the batch's sharing."""
    device = delivery.device
    language = content.language_for(notification, device.locale)
    message = content.message(
        notification,
        device.platform,
        language,
        context=None,
        tracking_id=launches.tracking_id(delivery.pk),
    )
    payload = registry.render(device.platform, message, now=NOW, token=device.push_token or "")
    return payload.body, payload.headers


@pytest.mark.parametrize("name", NOTIFICATIONS)
def test_each_push_is_the_bytes_its_own_rendering_gives(app, name):
    fields = {"platforms": ["ios", "android", "windows"], **NOTIFICATIONS[name]}
    notification = Notification(app=app, name=name, **fields)
    renderer = BatchRenderer(notification, NOW)
    assert not renderer.personal

    for delivery in deliveries(notification):
        push = renderer.push(delivery)
        assert (push.body, push.headers) == own_rendering(notification, delivery)
        assert push.key == str(delivery.pk)
    assert delivery.language == "en"  # the last device's locale, German, falls back to English


def test_a_token_a_marker_could_not_stand_for_is_rendered_on_its_own(app):
    notification = Notification(app=app, name="Sale", title_en="Half price")
    renderer = BatchRenderer(notification, NOW)
    odd = claimed(7, device(7, "android", push_token='odd"token\\é'))

    push = renderer.push(odd)

    assert (push.body, push.headers) == own_rendering(notification, odd)
    assert '"token":"odd\\"token\\\\é"'.encode() in push.body  # escaped as JSON escapes it


def test_personalized_texts_are_rendered_for_each_device(app):
    notification = Notification(
        app=app, name="Hi", title_en="Hello {{ user.id | default('there') }}"
    )
    renderer = BatchRenderer(notification, NOW)
    ann = claimed(1, device(1, "ios", user_id="ann"))
    nobody = claimed(2, device(2, "ios"))

    assert renderer.personal
    assert b'"title":"Hello ann"' in renderer.push(ann).body
    assert b'"title":"Hello there"' in renderer.push(nobody).body


def test_a_payload_over_the_limit_is_refused_with_the_services_words(app):
    notification = Notification(app=app, name="Long", title_en="Long", body_en="x" * 5000)
    renderer = BatchRenderer(notification, NOW)

    with pytest.raises(PayloadTooLarge, match="APNs accepts at most 4,096 bytes"):
        renderer.push(claimed(1, device(1, "ios")))

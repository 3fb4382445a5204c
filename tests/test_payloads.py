"""The payload renderers against APNs', FCM's and WNS's documented formats."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest

from devices.providers import apns, fcm, wns
from devices.providers.message import (
    Message,
    Payload,
    PayloadTooLarge,
    TileBinding,
    ToastAction,
    ToastInput,
    WindowsOptions,
    check_size,
)
from devices.providers.registry import render

render_apns, render_fcm, render_wns = apns.render, fcm.render, wns.render
APNS_LIMIT, FCM_LIMIT, WNS_LIMIT = apns.LIMIT, fcm.LIMIT, wns.LIMIT

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
# Every character XML and JSON treat specially, plus text outside ASCII.
NASTY = 'Tom & "Jerry" <b>\'s</b> — Zoë 日本 🎉'


def apns_json(message: Message) -> dict:
    return json.loads(render_apns(message, now=NOW).body)


def fcm_json(message: Message, token: str = "") -> dict:
    return json.loads(render_fcm(message, token, now=NOW).body)["message"]


def wns_xml(message: Message) -> ElementTree.Element:
    return ElementTree.fromstring(render_wns(message, now=NOW).body)


def toast(**options: object) -> Message:
    return Message(title="Sale", body="Half price", windows=WindowsOptions(**options))


def tile(*bindings: TileBinding, **options: object) -> Message:
    return Message(kind="tile", windows=WindowsOptions(tiles=bindings, **options))


# APNs


def test_it_renders_the_documented_apns_payload() -> None:
    message = Message(title="Sale", subtitle="Today", body="Half price", sound="default", badge=3)
    assert apns_json(message) == {
        "aps": {
            "alert": {"title": "Sale", "subtitle": "Today", "body": "Half price"},
            "sound": "default",
            "badge": 3,
        }
    }


def test_it_writes_compact_utf8_json_for_apns() -> None:
    body = render_apns(Message(title="Zoë", body="x"), now=NOW).body
    assert body == '{"aps":{"alert":{"title":"Zoë","body":"x"}}}'.encode()


def test_it_omits_empty_alert_fields_sound_and_badge() -> None:
    assert apns_json(Message(body="Half price")) == {"aps": {"alert": {"body": "Half price"}}}


def test_it_keeps_a_zero_badge_which_clears_the_badge() -> None:
    assert apns_json(Message(body="x", badge=0))["aps"]["badge"] == 0


def test_it_puts_tracking_id_beside_aps() -> None:
    document = apns_json(Message(body="x", tracking_id="t-42"))
    assert document["tracking_id"] == "t-42"
    assert "tracking_id" not in document["aps"]


def test_it_leaves_out_tracking_id_when_tracking_is_off() -> None:
    assert "tracking_id" not in apns_json(Message(body="x"))


def test_it_marks_apns_image_as_mutable_content_for_the_extension() -> None:
    document = apns_json(Message(body="x", image_url="https://cdn.example/a.png"))
    assert document["aps"]["mutable-content"] == 1
    assert document["image_url"] == "https://cdn.example/a.png"


def test_it_puts_url_and_custom_data_at_apns_top_level() -> None:
    message = Message(body="x", url="retail://offers/7", custom_data={"offer": "7"})
    document = apns_json(message)
    assert document["url"] == "retail://offers/7"
    assert document["offer"] == "7"


def test_it_refuses_custom_aps_key() -> None:
    with pytest.raises(ValueError, match="'aps'"):
        render_apns(Message(body="x", custom_data={"aps": "{}"}))


def test_custom_data_never_overrides_tracking_id_or_url() -> None:
    forged = {"tracking_id": "forged", "url": "evil://", "image_url": "evil.png"}
    message = Message(body="x", tracking_id="real", url="retail://", custom_data=forged)
    assert apns_json(message)["tracking_id"] == "real"
    assert apns_json(message)["url"] == "retail://"
    assert fcm_json(message)["data"]["tracking_id"] == "real"
    assert fcm_json(message)["data"]["url"] == "retail://"


def test_custom_data_cannot_supply_tracking_id_when_tracking_is_off() -> None:
    message = Message(body="x", custom_data={"tracking_id": "forged"})
    assert "tracking_id" not in apns_json(message)
    assert "data" not in fcm_json(message)


def test_it_sends_apns_alert_headers_and_lets_apns_store_a_message_that_never_expires() -> None:
    headers = render_apns(Message(body="x")).headers
    assert headers == {"apns-push-type": "alert", "apns-priority": "10"}


def test_it_sets_apns_expiration_to_unix_seconds() -> None:
    message = Message(body="x", expires_at=datetime(2030, 1, 2, tzinfo=UTC))
    assert render_apns(message).headers["apns-expiration"] == "1893542400"


def test_it_refuses_a_tile_for_apns_and_fcm() -> None:
    message = tile(TileBinding("wide", ("x",)))
    with pytest.raises(ValueError, match="Windows"):
        render_apns(message)
    with pytest.raises(ValueError, match="Windows"):
        render_fcm(message)


# FCM


def test_it_renders_the_documented_fcm_message() -> None:
    message = Message(
        title="Sale",
        body="Half price",
        image_url="https://cdn.example/a.png",
        sound="default",
        badge=2,
        custom_data={"offer": "7"},
    )
    assert fcm_json(message, token="device-token") == {
        "token": "device-token",
        "notification": {
            "title": "Sale",
            "body": "Half price",
            "image": "https://cdn.example/a.png",
        },
        "data": {"offer": "7"},
        "android": {
            "priority": "high",
            "notification": {"sound": "default", "notification_count": 2},
        },
    }


def test_it_omits_empty_fcm_fields() -> None:
    assert fcm_json(Message(body="x")) == {
        "notification": {"body": "x"},
        "android": {"priority": "high"},
    }


def test_it_puts_tracking_id_in_fcm_data() -> None:
    assert fcm_json(Message(body="x", tracking_id="t-42"))["data"] == {"tracking_id": "t-42"}


def test_it_puts_subtitle_and_url_in_fcm_data() -> None:
    data = fcm_json(Message(body="x", subtitle="Today", url="retail://offers/7"))["data"]
    assert data == {"subtitle": "Today", "url": "retail://offers/7"}


def test_it_sends_every_fcm_data_value_as_a_string() -> None:
    data = fcm_json(Message(body="x", custom_data={"count": 3, "on": True}))["data"]  # type: ignore[dict-item]
    assert data == {"count": "3", "on": "True"}


def test_it_refuses_fcm_reserved_data_keys() -> None:
    for key in ("from", "google.sent_time", "gcm.notification.body"):
        with pytest.raises(ValueError, match=key):
            render_fcm(Message(body="x", custom_data={key: "1"}))


def test_it_writes_fcm_ttl_as_seconds_from_now() -> None:
    message = Message(body="x", expires_at=NOW + timedelta(hours=1))
    assert fcm_json(message)["android"]["ttl"] == "3600s"


def test_it_never_writes_a_negative_fcm_ttl() -> None:
    message = Message(body="x", expires_at=NOW - timedelta(hours=1))
    assert fcm_json(message)["android"]["ttl"] == "0s"


def test_it_caps_fcm_ttl_at_four_weeks() -> None:
    message = Message(body="x", expires_at=NOW + timedelta(days=60))
    assert fcm_json(message)["android"]["ttl"] == "2419200s"


def test_it_sends_fcm_as_json() -> None:
    assert render_fcm(Message(body="x")).headers == {"Content-Type": "application/json"}


# WNS toast


def test_it_renders_the_documented_toast() -> None:
    message = Message(title="Sale", body="Half price", subtitle="Today")
    assert render_wns(message, now=NOW).body == (
        b'<toast activationType="foreground" duration="short"><visual>'
        b'<binding template="ToastGeneric"><text>Sale</text><text>Half price</text>'
        b"<text>Today</text></binding></visual></toast>"
    )


def test_it_sends_toast_headers() -> None:
    headers = render_wns(toast(), now=NOW).headers
    assert headers == {"X-WNS-Type": "wns/toast", "Content-Type": "text/xml"}


def test_it_sets_wns_ttl_in_seconds_from_now() -> None:
    message = Message(body="x", expires_at=NOW + timedelta(minutes=5))
    assert render_wns(message, now=NOW).headers["X-WNS-TTL"] == "300"


def test_it_puts_tracking_id_in_toast_launch() -> None:
    launch = wns_xml(Message(body="x", tracking_id="t-42")).get("launch")
    assert launch == "tracking_id=t-42"


def test_it_appends_tracking_id_to_existing_launch_arguments() -> None:
    message = Message(body="x", tracking_id="t-42", windows=WindowsOptions(launch="offer=7"))
    assert wns_xml(message).get("launch") == "offer=7&tracking_id=t-42"


def test_it_quotes_a_tracking_id_so_it_cannot_add_launch_arguments() -> None:
    launch = wns_xml(Message(body="x", tracking_id="a&admin=1")).get("launch")
    assert launch == "tracking_id=a%26admin%3D1"


def test_it_leaves_protocol_launches_untouched() -> None:
    options = WindowsOptions(activation_type="protocol", launch="ms-windows-store://pdp/?id=9")
    document = wns_xml(Message(body="x", tracking_id="t-42", windows=options))
    assert document.get("launch") == "ms-windows-store://pdp/?id=9"
    assert document.get("activationType") == "protocol"


def test_it_writes_toast_options() -> None:
    document = wns_xml(
        toast(activation_type="background", duration="long", scenario="reminder", launch="a=1")
    )
    assert document.attrib == {
        "launch": "a=1",
        "activationType": "background",
        "duration": "long",
        "scenario": "reminder",
    }


def test_it_writes_visual_base_uri_and_image_query() -> None:
    visual = wns_xml(toast(base_uri="https://cdn.example/", add_image_query=True)).find("visual")
    assert visual.attrib == {"baseUri": "https://cdn.example/", "addImageQuery": "true"}


def test_it_uses_the_message_image_when_windows_has_none() -> None:
    message = Message(body="x", image_url="https://cdn.example/a.png")
    assert wns_xml(message).find("visual/binding/image").attrib == {
        "src": "https://cdn.example/a.png"
    }


def test_it_prefers_the_windows_image() -> None:
    message = Message(body="x", image_url="a.png", windows=WindowsOptions(image="wide.png"))
    assert wns_xml(message).find("visual/binding/image").get("src") == "wide.png"


def test_it_writes_toast_audio() -> None:
    audio = wns_xml(toast(audio="ms-winsoundevent:Notification.Looping.Alarm", audio_loop=True))
    assert audio.find("audio").attrib == {
        "src": "ms-winsoundevent:Notification.Looping.Alarm",
        "loop": "true",
    }


def test_it_writes_no_audio_element_by_default() -> None:
    assert wns_xml(toast()).find("audio") is None


def test_it_silences_a_toast_without_a_sound_of_its_own() -> None:
    assert wns_xml(toast(audio_silent=True)).find("audio").attrib == {"silent": "true"}


def test_it_writes_text_input_and_button_beside_it() -> None:
    reply = ToastInput("reply", title="Reply", placeholder="Type a reply", default="Thanks")
    send = ToastAction(
        "Send",
        "action=reply",
        activation_type="background",
        input_id="reply",
        image_uri="Assets/Send.png",
    )
    actions = wns_xml(toast(inputs=(reply,), actions=(send,))).find("actions")
    assert [child.tag for child in actions] == ["input", "action"]
    assert actions[0].attrib == {
        "id": "reply",
        "type": "text",
        "title": "Reply",
        "placeHolderContent": "Type a reply",
        "defaultInput": "Thanks",
    }
    assert actions[1].attrib == {
        "content": "Send",
        "arguments": "action=reply",
        "activationType": "background",
        "hint-inputId": "reply",
        "imageUri": "Assets/Send.png",
    }


def test_it_writes_selection_inputs() -> None:
    size = ToastInput("size", type="selection", selections=(("s", "Small"), ("l", "Large")))
    element = wns_xml(toast(inputs=(size,))).find("actions/input")
    assert element.attrib == {"id": "size", "type": "selection"}
    assert [selection.attrib for selection in element] == [
        {"id": "s", "content": "Small"},
        {"id": "l", "content": "Large"},
    ]


def test_it_escapes_every_toast_value() -> None:
    choice = ToastInput(NASTY, "selection", NASTY, NASTY, NASTY, ((NASTY, NASTY),))
    button = ToastAction(NASTY, NASTY, input_id=NASTY, image_uri=NASTY)
    options = WindowsOptions(
        launch=NASTY, base_uri=NASTY, image=NASTY, audio=NASTY, inputs=(choice,), actions=(button,)
    )
    document = wns_xml(Message(title=NASTY, subtitle=NASTY, body=NASTY, windows=options))
    texts = [element.text for element in document.iter("text")]
    values = {
        f"{element.tag}@{name}": value
        for element in document.iter()
        for name, value in element.attrib.items()
        if value == NASTY
    }
    assert texts == [NASTY] * 3
    assert sorted(values) == [
        "action@arguments",
        "action@content",
        "action@hint-inputId",
        "action@imageUri",
        "audio@src",
        "image@src",
        "input@defaultInput",
        "input@id",
        "input@placeHolderContent",
        "input@title",
        "selection@content",
        "selection@id",
        "toast@launch",
        "visual@baseUri",
    ]


def test_it_drops_control_characters_xml_cannot_carry() -> None:
    assert wns_xml(Message(body="bell\x07 here")).find("visual/binding/text").text == "bell here"


# WNS tile


def test_it_renders_one_binding_per_tile_size() -> None:
    message = tile(*(TileBinding(size, ("x",)) for size in ("small", "medium", "wide", "large")))
    templates = [binding.get("template") for binding in wns_xml(message).iter("binding")]
    assert templates == ["TileSmall", "TileMedium", "TileWide", "TileLarge"]


def test_it_renders_the_documented_tile() -> None:
    message = tile(TileBinding("wide", ("Sale", "Half price"), "https://cdn.example/bg.png"))
    assert render_wns(message).body == (
        b'<tile><visual><binding template="TileWide">'
        b'<image src="https://cdn.example/bg.png" placement="background" />'
        b'<text hint-style="base">Sale</text><text hint-style="captionSubtle">Half price</text>'
        b"</binding></visual></tile>"
    )


def test_it_sends_tile_headers() -> None:
    headers = render_wns(tile(TileBinding("medium", ("x",)))).headers
    assert headers == {"X-WNS-Type": "wns/tile", "Content-Type": "text/xml"}


def test_tiles_carry_no_launch_tracking() -> None:
    message = Message(
        kind="tile", tracking_id="t-42", windows=WindowsOptions(tiles=(TileBinding("wide"),))
    )
    assert b"t-42" not in render_wns(message).body


def test_it_escapes_every_tile_value() -> None:
    document = wns_xml(tile(TileBinding("large", (NASTY, NASTY), NASTY), base_uri=NASTY))
    assert [text.text for text in document.iter("text")] == [NASTY, NASTY]
    assert document.find("visual").get("baseUri") == NASTY
    assert document.find("visual/binding/image").get("src") == NASTY


def test_it_refuses_a_tile_without_bindings() -> None:
    with pytest.raises(ValueError, match="TileBinding"):
        render_wns(Message(kind="tile"))


# Enumerated options


@pytest.mark.parametrize(
    ("make", "option", "allowed"),
    [
        (lambda: WindowsOptions(activation_type="popup"), "activation_type", "'protocol'"),
        (lambda: WindowsOptions(duration="forever"), "duration", "'long'"),
        (lambda: WindowsOptions(scenario="urgent!"), "scenario", "'incomingCall'"),
        (lambda: TileBinding("huge"), "size", "'large'"),
        (lambda: ToastInput("x", type="slider"), "type", "'selection'"),
        (lambda: ToastAction("Go", "go", activation_type="popup"), "activation_type", "'protocol'"),
        (lambda: Message(kind="banner"), "kind", "'tile'"),
    ],
)
def test_it_refuses_bad_option_values(make, option: str, allowed: str) -> None:
    with pytest.raises(ValueError, match=option) as error:
        make()
    assert allowed in str(error.value)


def test_it_refuses_an_unknown_platform() -> None:
    with pytest.raises(ValueError, match="'windows'"):
        render("blackberry", Message(body="x"))


def test_it_refuses_a_naive_expiry() -> None:
    with pytest.raises(ValueError, match="aware"):
        Message(body="x", expires_at=datetime(2030, 1, 1))


# Dispatch and size


@pytest.mark.parametrize(
    ("platform", "renderer"),
    [("ios", render_apns), ("android", render_fcm), ("windows", render_wns)],
)
def test_render_dispatches_on_platform(platform: str, renderer) -> None:
    message = Message(body="x", expires_at=NOW + timedelta(hours=1))
    assert render(platform, message, now=NOW) == renderer(message, now=NOW)


def test_size_counts_bytes_not_characters() -> None:
    small = render_apns(Message(body="e"))
    multibyte = render_apns(Message(body="€"))
    assert multibyte.size == small.size + 2 == len(multibyte.body)


def sized(platform: str, size: int) -> Payload:
    """Render a message for the platform padded (with 3-byte characters) to exactly size bytes."""
    base = render(platform, Message(body="x")).size
    padding = size - base
    body = "€" * (padding // 3) + "x" * (padding % 3 + 1)
    payload = render(platform, Message(body=body))
    assert payload.size == size
    return payload


@pytest.mark.parametrize(
    ("platform", "limit"), [("ios", APNS_LIMIT), ("android", FCM_LIMIT), ("windows", WNS_LIMIT)]
)
def test_it_accepts_a_payload_of_exactly_the_limit(platform: str, limit: int) -> None:
    check_size(sized(platform, limit))


@pytest.mark.parametrize(
    ("platform", "service", "limit"),
    [("ios", "APNs", APNS_LIMIT), ("android", "FCM", FCM_LIMIT), ("windows", "WNS", WNS_LIMIT)],
)
def test_it_refuses_a_payload_one_byte_over_the_limit(
    platform: str, service: str, limit: int
) -> None:
    with pytest.raises(PayloadTooLarge) as error:
        check_size(sized(platform, limit + 1))
    assert (error.value.platform, error.value.size, error.value.limit) == (
        platform,
        limit + 1,
        limit,
    )
    assert str(error.value) == (
        f"The {service} payload is {limit + 1:,} bytes; {service} accepts at most {limit:,} bytes."
    )


def test_it_refuses_a_toast_over_5000_bytes() -> None:
    # Microsoft's "Push notification service request and response headers": 413, "The
    # notification payload exceeds the 5000 byte size limit." 5,000 bytes, not 5 KiB.
    check_size(sized("windows", 5000))
    with pytest.raises(PayloadTooLarge) as error:
        check_size(sized("windows", 5001))
    assert str(error.value) == "The WNS payload is 5,001 bytes; WNS accepts at most 5,000 bytes."


def sale_tile(collapse_id: str = "") -> Message:
    tiles = (TileBinding("medium", texts=("Sale",)),)
    return Message(kind="tile", collapse_id=collapse_id, windows=WindowsOptions(tiles=tiles))


def test_a_collapse_id_reaches_each_providers_own_field():
    message = Message(
        title="Sale",
        collapse_id="sale-42",
        android_channel="offers",
        android_click_action="OPEN_SALE",
    )

    assert render_apns(message).headers["apns-collapse-id"] == "sale-42"
    android = fcm_json(message)["android"]
    assert android["collapse_key"] == "sale-42"
    assert android["notification"]["channel_id"] == "offers"
    assert android["notification"]["click_action"] == "OPEN_SALE"
    assert render_wns(sale_tile("sale42")).headers["X-WNS-Tag"] == "sale42"


def test_without_a_collapse_id_no_provider_gets_one():
    message = Message(title="Sale")

    assert "apns-collapse-id" not in render_apns(message).headers
    assert "collapse_key" not in fcm_json(message)["android"]
    assert "X-WNS-Tag" not in render_wns(sale_tile()).headers


def test_it_sends_no_tag_with_a_toast():
    # Microsoft's "Push notification service request and response headers": X-WNS-Tag "is
    # optional and used only when sending tile notifications".
    toast = Message(kind="toast", title="Sale", collapse_id="sale42")

    assert "X-WNS-Tag" not in render_wns(toast).headers


@pytest.mark.parametrize(
    "collapse_id",
    ["sale-42", "sale_42", "sale.42", "x" * 17, "pushcenter-12", "Zoë", "日本"],
)
def test_it_never_renders_a_tag_wns_would_refuse(collapse_id: str):
    # The same page: X-WNS-Tag is "An alphanumeric string of no more than 16 characters".
    assert "X-WNS-Tag" not in render_wns(sale_tile(collapse_id)).headers


def test_it_renders_a_tag_of_16_letters_and_digits():
    assert render_wns(sale_tile("Sale2030" * 2)).headers["X-WNS-Tag"] == "Sale2030Sale2030"


# Silent, badge and rich messages
# Apple's "Pushing background updates to your App" and "Generating a remote notification"; FCM's
# "Firebase Cloud Messaging message types" and REST reference (AndroidConfig,
# AndroidNotification); Microsoft's "Push notification service request and response headers",
# "Raw notification overview" and "Badge notifications for Windows apps".

SYNC = {"sync": "inbox", "since": "42"}


def silent(**fields: object) -> Message:
    return Message(kind="silent", custom_data=SYNC, **fields)


def test_a_silent_apns_push_is_content_available_and_custom_data_only() -> None:
    payload = render_apns(silent(url="app://inbox", tracking_id="t-1"), now=NOW)

    assert json.loads(payload.body) == {
        "aps": {"content-available": 1},
        **SYNC,
        "url": "app://inbox",
        "tracking_id": "t-1",
    }
    assert payload.headers == {"apns-push-type": "background", "apns-priority": "5"}


@pytest.mark.parametrize("priority", ["high", "normal"])
def test_a_silent_apns_push_is_priority_5_whatever_the_messages_priority(priority: str) -> None:
    headers = render_apns(silent(priority=priority), now=NOW).headers
    assert headers["apns-priority"] == "5"


def test_a_silent_apns_push_never_carries_alert_sound_or_badge() -> None:
    # The caller leaves them empty; should any slip in, they stay out of a background push.
    aps = apns_json(silent(title="Hi", sound="default", badge=2))["aps"]
    assert aps == {"content-available": 1}


def test_a_silent_fcm_message_is_data_only() -> None:
    message = fcm_json(silent(tracking_id="t-1", priority="normal"), "device-1")

    assert message == {
        "token": "device-1",
        "data": {**SYNC, "tracking_id": "t-1"},
        "android": {"priority": "normal"},
    }


def test_a_silent_fcm_message_is_high_priority_when_the_message_is() -> None:
    assert fcm_json(silent())["android"] == {"priority": "high"}


def test_a_silent_wns_notification_is_raw_compact_json() -> None:
    expires = NOW + timedelta(minutes=10)
    payload = render_wns(silent(expires_at=expires), now=NOW)

    assert payload.body == b'{"sync":"inbox","since":"42"}'
    assert payload.headers == {
        "X-WNS-Type": "wns/raw",
        "Content-Type": "application/octet-stream",
        "X-WNS-TTL": "600",
    }


def test_a_silent_raw_notification_keeps_utf8_and_refuses_a_forged_tracking_id() -> None:
    message = Message(kind="silent", custom_data={"name": "Zoë", "tracking_id": "forged"})
    assert render_wns(message, now=NOW).body == '{"name":"Zoë"}'.encode()


@pytest.mark.parametrize("renderer", [render_apns, render_fcm, render_wns])
def test_a_silent_message_without_custom_data_is_refused(renderer) -> None:
    with pytest.raises(ValueError, match="silent message .* needs custom data"):
        renderer(Message(kind="silent"), now=NOW)


def test_a_badge_apns_push_is_the_badge_only_at_the_messages_priority() -> None:
    payload = render_apns(Message(kind="badge", badge=4, priority="normal"), now=NOW)

    assert json.loads(payload.body) == {"aps": {"badge": 4}}
    assert payload.headers == {"apns-push-type": "alert", "apns-priority": "5"}


def test_a_badge_apns_push_of_zero_clears_the_badge_and_may_carry_custom_data() -> None:
    assert apns_json(Message(kind="badge", badge=0, custom_data={"box": "inbox"})) == {
        "aps": {"badge": 0},
        "box": "inbox",
    }


def test_a_badge_fcm_message_is_data_with_the_badge_as_a_string() -> None:
    message = fcm_json(Message(kind="badge", badge=7, custom_data={"badge": "99", "box": "in"}))

    assert message == {"data": {"box": "in", "badge": "7"}, "android": {"priority": "high"}}


def test_a_badge_wns_notification_is_badge_xml_with_the_number() -> None:
    payload = render_wns(Message(kind="badge", badge=12), now=NOW)

    assert payload.body == b'<badge value="12" />'
    assert payload.headers == {"X-WNS-Type": "wns/badge", "Content-Type": "text/xml"}


def test_a_wns_badge_glyph_wins_over_the_number() -> None:
    message = Message(kind="badge", badge=3, badge_glyph="newMessage")
    assert wns_xml(message).attrib == {"value": "newMessage"}
    assert wns_xml(Message(kind="badge", badge_glyph="alert")).attrib == {"value": "alert"}


@pytest.mark.parametrize("renderer", [render_apns, render_fcm, render_wns])
def test_a_badge_message_without_a_badge_is_refused(renderer) -> None:
    with pytest.raises(ValueError, match="badge message .* needs a badge number"):
        renderer(Message(kind="badge"), now=NOW)


def test_apns_and_fcm_need_a_badge_number_even_with_a_glyph() -> None:
    for renderer in (render_apns, render_fcm):
        with pytest.raises(ValueError, match="needs a badge number"):
            renderer(Message(kind="badge", badge_glyph="alert"), now=NOW)


def test_a_rich_apns_alert_carries_thread_category_interruption_and_relevance() -> None:
    message = Message(
        title="Sale",
        thread_id="offers",
        ios_category="SALE",
        interruption_level="time-sensitive",
        relevance_score=0.75,
    )
    assert apns_json(message)["aps"] == {
        "alert": {"title": "Sale"},
        "thread-id": "offers",
        "category": "SALE",
        "interruption-level": "time-sensitive",
        "relevance-score": 0.75,
    }


def test_a_zero_relevance_score_is_written() -> None:
    assert apns_json(Message(title="Sale", relevance_score=0))["aps"]["relevance-score"] == 0


@pytest.mark.parametrize(("priority", "header"), [("high", "10"), ("normal", "5")])
def test_an_apns_alert_is_priority_10_for_high_and_5_for_normal(priority: str, header: str):
    headers = render_apns(Message(title="Sale", priority=priority), now=NOW).headers
    assert headers == {"apns-push-type": "alert", "apns-priority": header}


def test_an_fcm_notification_carries_priority_tag_image_and_count() -> None:
    rendered = fcm_json(
        Message(
            title="Sale",
            image_url="https://cdn.example/a.png",
            badge=2,
            android_tag="offers",
            priority="normal",
        )
    )

    assert rendered["notification"] == {"title": "Sale", "image": "https://cdn.example/a.png"}
    assert rendered["android"] == {
        "priority": "normal",
        "notification": {"notification_count": 2, "tag": "offers"},
    }


def test_a_toast_carries_custom_data_in_its_launch_before_the_tracking_id() -> None:
    message = Message(
        title="Sale",
        tracking_id="t 1",
        custom_data={"screen": "offers&more", "tracking_id": "forged"},
        windows=WindowsOptions(launch="page=home"),
    )
    assert wns_xml(message).get("launch") == "page=home&screen=offers%26more&tracking_id=t%201"


def test_a_toast_without_launch_or_tracking_carries_the_custom_data_alone() -> None:
    message = Message(title="Sale", custom_data={"a b": "c=d"})
    assert wns_xml(message).get("launch") == "a%20b=c%3Dd"


def test_a_protocol_toast_launch_carries_no_custom_data() -> None:
    message = Message(
        title="Sale",
        tracking_id="t-1",
        custom_data={"screen": "offers"},
        windows=WindowsOptions(activation_type="protocol", launch="https://contoso.example"),
    )
    assert wns_xml(message).get("launch") == "https://contoso.example"


def test_a_raw_notification_keeps_our_url_over_a_custom_one() -> None:
    message = Message(kind="silent", url="app://inbox", custom_data={"url": "x", "a": "1"})
    assert json.loads(render_wns(message, now=NOW).body) == {"a": "1", "url": "app://inbox"}

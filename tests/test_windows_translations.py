"""The Windows texts a marketer writes (buttons, inputs, tile lines) are translated as the title is.

The offline translator marks each text with its target code ("[fr] Send"), so a test can tell a
machine translation from a marketer's.
"""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from campaigns.composition import problems, render_for_preview
from campaigns.content import message
from campaigns.models import Notification
from tests.conftest import logged_in
from tests.fake_translator import FakeTranslator
from tests.notification_forms import (
    ADD,
    PREVIEW,
    change_url,
    errors,
    form_data,
    opened_form,
    schedule,
)

INPUTS = [
    {"id": "reply", "title": "Your answer", "placeholder": "Type a reply", "default": "Hi"},
    {
        "id": "mood",
        "type": "selection",
        "default": "yes",
        "selections": [{"id": "yes", "content": "Happy"}, {"id": "no", "content": "Sad"}],
    },
]
ACTIONS = [{"content": "Send", "arguments": "send", "input_id": "reply"}]
TILES = [{"size": "medium", "texts": ["Sale", "Today only"]}, {"size": "wide", "texts": ["Sale"]}]


@pytest.fixture
def client(bob):
    return logged_in(bob)


def toast(news, **fields: object) -> dict:
    """A toast with a text input, a selection input and a button, in English with French."""
    toast_fields = {"template": "toast", "languages": ["fr"], "inputs": json.dumps(INPUTS)}
    return form_data(news, **{**toast_fields, "actions": json.dumps(ACTIONS), **fields})


@pytest.fixture
def french_toast(client, news) -> Notification:
    assert schedule(client, toast(news)).status_code == 302
    return Notification.objects.get()


def edit(client, notification: Notification, **fields: object) -> Notification:
    """Open the notification's page, change fields as a marketer types them, and save."""
    form = {**opened_form(client, change_url(notification.pk)), **fields}
    assert schedule(client, form, change_url(notification.pk)).status_code == 302
    return Notification.objects.get(pk=notification.pk)


def with_actions(*labels: str) -> str:
    return json.dumps([{"content": label, "arguments": f"a{n}"} for n, label in enumerate(labels)])


# Machine translation


def test_every_toast_text_of_an_added_language_is_machine_translated(french_toast):
    assert french_toast.windows_texts["fr"] == {
        "input.reply.title": "[fr] Your answer",
        "input.reply.placeholder": "[fr] Type a reply",
        "input.reply.default": "[fr] Hi",
        "input.mood.selection.yes": "[fr] Happy",
        "input.mood.selection.no": "[fr] Sad",
        "action.0.content": "[fr] Send",
    }
    assert french_toast.machine_translations["fr"]["action.0.content"] == "[fr] Send"
    assert french_toast.overridden_languages == []


def test_every_tile_line_of_an_added_language_is_machine_translated(client, news):
    data = form_data(
        news, template="tile", languages=["de"], title_en="", tile_bindings=json.dumps(TILES)
    )
    assert schedule(client, data).status_code == 302
    assert Notification.objects.get().windows_texts["de"] == {
        "tile.medium.0": "[de] Sale",
        "tile.medium.1": "[de] Today only",
        "tile.wide.0": "[de] Sale",
    }


def test_a_toast_sent_in_french_carries_the_french_labels(french_toast):
    xml = render_for_preview(french_toast, "windows", "fr").body.decode()
    for label in ("[fr] Send", "[fr] Type a reply", "[fr] Your answer", "[fr] Happy", "[fr] Sad"):
        assert label in xml
    assert 'content="Send"' not in xml and 'id="yes"' in xml
    assert 'content="Send"' in render_for_preview(french_toast, "windows", "en").body.decode()


def test_a_tile_sent_in_french_carries_the_french_lines(client, news):
    data = form_data(
        news, template="tile", languages=["fr"], title_en="", tile_bindings=json.dumps(TILES)
    )
    schedule(client, data)
    xml = render_for_preview(Notification.objects.get(), "windows", "fr").body.decode()
    assert ">[fr] Sale<" in xml and ">[fr] Today only<" in xml and ">Sale<" not in xml


def test_the_labels_are_translated_in_the_same_request_as_the_title(client, news, settings):
    cache.clear()  # translations are cached for a day: this save must ask for them
    with FakeTranslator() as azure:
        settings.TRANSLATOR, settings.AZURE_TRANSLATOR_URL = "azure", azure.url
        settings.AZURE_TRANSLATOR_KEY, settings.AZURE_TRANSLATOR_REGION = "test-key", ""
        assert schedule(client, toast(news, languages=["fr", "de"])).status_code == 302
    [received] = azure.requests
    assert [item["Text"] for item in received.body][:3] == [
        "Spring is here",
        "Everything is 20% off this week.",
        "Your answer",
    ]
    assert "Send" in [item["Text"] for item in received.body]
    assert Notification.objects.get().windows_texts["de"]["action.0.content"] == "[de] SEND"


# Overrides


def test_editing_a_french_button_overrides_the_french_translation(client, french_toast):
    edited = edit(client, french_toast, **{"action.0.content_fr": "Envoyer"})
    assert edited.overridden_languages == ["fr"]
    assert edited.windows_texts["fr"]["action.0.content"] == "Envoyer"
    assert edited.title_fr == "[fr] Spring is here"  # the rest of French is kept as it was
    sent = message(edited, "windows", "fr").windows
    assert sent.actions[0].content == "Envoyer"


def test_an_overridden_label_is_kept_when_the_default_changes(client, news):
    schedule(client, toast(news, languages=["fr", "de"]))
    notification = edit(client, Notification.objects.get(), **{"action.0.content_fr": "Envoyer"})
    actions = with_actions("Send now")
    edited = edit(client, notification, actions=actions)
    assert edited.windows_texts["fr"]["action.0.content"] == "Envoyer"
    assert edited.windows_texts["de"]["action.0.content"] == "[de] Send now"
    assert edited.overridden_languages == ["fr"]


def test_revert_translates_the_labels_automatically_again(client, french_toast):
    edit(client, french_toast, **{"action.0.content_fr": "Envoyer"})
    edited = edit(client, french_toast, revert_languages=["fr"])
    assert edited.windows_texts["fr"]["action.0.content"] == "[fr] Send"
    assert edited.overridden_languages == []


def test_a_button_added_after_an_override_shows_the_default_label(client, french_toast):
    edit(client, french_toast, **{"action.0.content_fr": "Envoyer"})
    edited = edit(client, french_toast, actions=with_actions("Send", "Later"))
    assert "action.1.content" not in edited.windows_texts["fr"]
    labels = [a.content for a in message(edited, "windows", "fr").windows.actions]
    assert labels == ["Envoyer", "Later"]


def test_a_label_emptied_in_an_override_shows_the_default_label(client, french_toast):
    edited = edit(
        client,
        french_toast,
        **{"action.0.content_fr": "Envoyer", "input.reply.placeholder_fr": ""},
    )
    placeholder = message(edited, "windows", "fr").windows.inputs[0].placeholder
    assert placeholder == "Type a reply"


# The composer


def test_each_added_language_has_a_labelled_field_per_windows_text(client, french_toast):
    page = client.get(change_url(french_toast.pk)).content.decode()
    assert 'name="action.0.content_fr"' in page and "Button 1:" in page
    assert "Input mood: choice yes:" in page
    assert 'value="[fr] Send"' in page
    assert 'name="action.0.content_en"' not in page  # the default's are the structures


def test_the_preview_offers_the_fresh_label_translations(client, french_toast):
    data = {**opened_form(client, change_url(french_toast.pk)), "actions": with_actions("Go")}
    shown = client.post(PREVIEW, {**data, "notification_id": french_toast.pk}).json()
    assert shown["translations"]["fr"]["action.0.content"] == "[fr] Go"
    assert shown["previews"]["fr"]["windows"]["actions"][0]["content"] == "[fr] Go"


@pytest.mark.parametrize(
    ("value", "complaint"),
    [("x" * 201, "at most 200 characters"), ("{{ user.first_name", "Button 1: ")],
)
def test_a_bad_french_label_is_refused_naming_its_field(client, french_toast, value, complaint):
    form = {
        **opened_form(client, change_url(french_toast.pk)),
        "action.0.content_fr": value,
    }
    response = schedule(client, form, change_url(french_toast.pk))
    assert response.status_code == 200
    refused = errors(response)
    assert list(refused) == ["action.0.content_fr"]
    assert complaint in refused["action.0.content_fr"][0]
    stored = Notification.objects.get()
    assert stored.windows_texts["fr"]["action.0.content"] == "[fr] Send"
    assert stored.overridden_languages == []


def test_a_new_notification_with_a_bad_label_is_not_stored(client, news):
    response = schedule(client, toast(news, **{"action.0.content_fr": "{{ nobody.name }}"}))
    assert "action.0.content_fr" in errors(response)
    assert not Notification.objects.exists()
    assert response.request["PATH_INFO"] == ADD


def test_a_read_only_notification_shows_the_french_labels(client, french_toast):
    Notification.objects.filter(pk=french_toast.pk).update(status="completed")
    page = client.get(change_url(french_toast.pk)).content.decode()
    assert "Button 1:" in page and "[fr] Send" in page
    assert 'name="action.0.content_fr"' not in page


def test_each_languages_size_is_measured_with_its_own_labels(news):
    go = [{"content": "Go", "arguments": "go"}]
    notification = Notification(
        app=news, template="toast", platforms=["windows"], languages=["fr"], actions=go
    )
    empty = render_for_preview(notification, "windows", "en").size
    body = "日" * ((4_900 - empty) // 3)  # three bytes each in UTF-8: English stays under 5,000
    for language in ("en", "fr"):
        notification.set_text("body", language, body)
    notification.windows_texts = {"fr": {"action.0.content": "日" * 150}}
    found = problems(notification)[None]
    assert [line.split(":")[0] for line in found] == ["French"]
    assert "WNS accepts at most 5,000 bytes." in found[0]

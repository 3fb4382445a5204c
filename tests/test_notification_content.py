"""A notification's content: its translations as the composer keeps them, and what a device gets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns.content import language_candidates, language_for, message
from campaigns.models import Notification
from tests.conftest import logged_in
from tests.notification_forms import PREVIEW, change_url, form_data, opened_form, schedule


@pytest.fixture
def client(bob):
    return logged_in(bob)


@pytest.fixture
def french(client, retail) -> Notification:
    """A notification in English with French added: French is machine-translated."""
    assert schedule(client, form_data(retail, languages=["fr"])).status_code == 302
    return Notification.objects.get()


def edit(client, notification: Notification, **fields: object) -> Notification:
    """Open the notification's page, change fields as a marketer types them, and save."""
    form = {**opened_form(client, change_url(notification.pk)), **fields}
    assert schedule(client, form, change_url(notification.pk)).status_code == 302
    return Notification.objects.get(pk=notification.pk)


# Translations


def test_an_added_language_gets_the_machine_translation(french):
    assert (french.title_fr, french.body_fr) == (
        "[fr] Spring is here",
        "[fr] Everything is 20% off this week.",
    )
    assert french.machine_translations["fr"]["title"] == "[fr] Spring is here"
    assert french.overridden_languages == []


def test_editing_a_translation_overrides_it(client, french):
    edited = edit(client, french, title_fr="Le printemps est là")
    assert edited.overridden_languages == ["fr"]
    assert (edited.title_fr, edited.body_fr) == (
        "Le printemps est là",
        "[fr] Everything is 20% off this week.",
    )


def test_a_translation_written_when_adding_the_language_is_overridden(client, retail):
    schedule(client, form_data(retail, languages=["fr", "de"], title_fr="Bonjour"))
    stored = Notification.objects.get()
    assert (stored.overridden_languages, stored.title_fr) == (["fr"], "Bonjour")
    assert stored.title_de == "[de] Spring is here"


def test_an_overridden_translation_is_kept_when_the_default_text_changes(client, french):
    edit(client, french, title_fr="Le printemps est là")
    edited = edit(client, french, title_en="Summer is here")
    assert (edited.title_en, edited.title_fr) == ("Summer is here", "Le printemps est là")
    assert edited.overridden_languages == ["fr"]


def test_an_automatic_translation_follows_the_default_text(client, french):
    edited = edit(client, french, title_en="Summer is here")
    assert edited.title_fr == "[fr] Summer is here"
    assert edited.overridden_languages == []


def test_the_fresh_translation_the_preview_shows_is_not_an_override(client, retail, french):
    data = {**opened_form(client, change_url(french.pk)), "title_en": "Summer is here"}
    shown = client.post(PREVIEW, {**data, "notification_id": french.pk}).json()
    assert shown["translations"]["fr"]["title"] == "[fr] Summer is here"
    data["title_fr"] = shown["translations"]["fr"]["title"]
    assert schedule(client, data, change_url(french.pk)).status_code == 302
    assert Notification.objects.get().overridden_languages == []


def test_a_field_added_later_is_not_added_to_an_overridden_translation(client, french):
    edit(client, french, languages=["fr", "de"], title_fr="Le printemps est là")
    edited = edit(client, french, subtitle_en="Only this week")
    assert (edited.subtitle_fr, edited.subtitle_de) == ("", "[de] Only this week")


def test_revert_makes_a_translation_automatic_again(client, french):
    edit(client, french, title_fr="Le printemps est là")
    edited = edit(client, french, revert_languages=["fr"])
    assert edited.title_fr == "[fr] Spring is here"
    assert edited.overridden_languages == []


def test_the_page_offers_to_revert_an_overridden_translation(client, french):
    edit(client, french, title_fr="Le printemps est là")
    page = client.get(change_url(french.pk)).content.decode()
    assert 'name="revert_languages" value="fr"' in page


def test_removing_a_language_clears_its_texts(client, french):
    edit(client, french, title_fr="Le printemps est là")
    edited = edit(client, french, languages=[])
    assert (edited.languages, edited.title_fr, edited.body_fr) == ([], "", "")
    assert "fr" not in edited.machine_translations and edited.overridden_languages == []


def test_the_default_language_is_not_added_as_a_translation(client, retail):
    schedule(client, form_data(retail, languages=["en", "fr"]))
    assert Notification.objects.get().languages == ["fr"]


# Language of a device


@pytest.mark.parametrize(
    ("locale", "candidates"),
    [
        ("fr-CA", ["fr-ca", "fr"]),
        ("fr_ca", ["fr-ca", "fr"]),
        ("zh-TW", ["zh-tw", "zh-hant", "zh"]),
        ("zh-HK", ["zh-hk", "zh-hant", "zh"]),
        ("zh-CN", ["zh-cn", "zh-hans", "zh"]),
        ("zh-Hant-TW", ["zh-hant-tw", "zh-hant", "zh"]),
        ("pt-BR", ["pt-br", "pt"]),
        ("no-NO", ["no-no", "no", "nb"]),
        ("", []),
    ],
)
def test_language_candidates_go_from_most_to_least_specific(locale, candidates):
    assert language_candidates(locale) == candidates


def notification_in(*languages: str, default: str = "en") -> Notification:
    return Notification(default_language=default, languages=list(languages))


@pytest.mark.parametrize(
    ("languages", "locale", "language"),
    [
        (["fr-ca", "fr"], "fr-CA", "fr-ca"),
        (["fr"], "fr-CA", "fr"),
        (["de"], "fr-CA", "en"),
        (["zh-hant", "zh-hans"], "zh-TW", "zh-hant"),
        (["zh-hant", "zh-hans"], "zh-CN", "zh-hans"),
        (["pt", "pt-pt"], "pt-BR", "pt"),
        (["pt", "pt-pt"], "pt-PT", "pt-pt"),
        (["fr"], "xx-YY", "en"),
        (["fr"], "", "en"),
    ],
)
def test_a_device_gets_its_locales_language_else_the_default(languages, locale, language):
    assert language_for(notification_in(*languages), locale) == language


def test_a_language_the_notification_lacks_falls_back_to_its_default(retail):
    assert language_for(notification_in("fr", default="de"), "es-ES") == "de"


# The message a device receives


@pytest.fixture
def written(retail) -> Notification:
    notification = Notification(
        app=retail,
        default_language="en",
        languages=["fr"],
        on_click="url",
        url="https://example.com/offers",
        ios_url="https://apps.apple.com/app/id123456789",
        custom_data={"screen": "offers", "count": 3},
        expires_at=datetime(2099, 1, 1, tzinfo=UTC),
    )
    notification.set_text("title", "en", "Hi {{ user.id | default('there') }}")
    notification.set_text("title", "fr", "Salut {{ user.id | default('toi') }}")
    notification.set_text("body", "fr", "Soldes")
    return notification


def test_a_message_carries_its_languages_texts_personalized(written):
    sent = message(written, "android", "fr", context={"user": {"id": "ann"}})
    assert (sent.kind, sent.title, sent.body) == ("standard", "Salut ann", "Soldes")


def test_a_message_without_a_context_keeps_its_tokens(written):
    assert message(written, "ios", "en").title == "Hi {{ user.id | default('there') }}"


def test_a_message_opens_each_platforms_own_url_else_the_shared_one(written):
    assert message(written, "ios", "en").url == "https://apps.apple.com/app/id123456789"
    assert message(written, "android", "en").url == "https://example.com/offers"
    written.on_click = "app"
    assert message(written, "android", "en").url == ""


def test_a_message_carries_custom_data_as_text_and_the_expiry(written):
    sent = message(written, "ios", "en", tracking_id="t" * 32)
    assert sent.custom_data == {"screen": "offers", "count": "3"}
    assert (sent.tracking_id, sent.expires_at.year) == ("t" * 32, 2099)


def test_a_message_drops_the_tracking_id_when_launches_are_not_tracked(written):
    written.track_launches = False
    assert message(written, "ios", "en", tracking_id="t" * 32).tracking_id == ""


def test_a_windows_message_is_a_toast_or_a_tile(written):
    written.tile_bindings = [{"size": "wide", "texts": ["Sale"]}]
    assert message(written, "windows", "en").kind == "toast"
    written.template = "tile"
    tile = message(written, "windows", "en")
    assert (tile.kind, tile.windows.tiles[0].texts) == ("tile", ("Sale",))
    assert message(written, "ios", "en").kind == "standard"

"""A marketer rewrites a toast's French button label; the preview shows it and it is kept."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import Notification
from tests.conftest import logged_in
from tests.e2e.conftest import login
from tests.notification_forms import change_url, form_data, save_draft

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def french_toast(bob, news) -> Notification:
    """A draft toast in English and French with one button, "Send"."""
    actions = json.dumps([{"content": "Send", "arguments": "send"}])
    data = form_data(news, template="toast", languages=["fr"], actions=actions)
    assert save_draft(logged_in(bob), data).status_code == 302
    return Notification.objects.get()


def test_a_french_button_label_written_by_hand_is_kept(page: Page, live_server, bob, french_toast):
    login(page, live_server, bob)
    page.goto(f"{live_server.url}{change_url(french_toast.pk)}")
    page.click("#language-tabs button[data-language=fr]")
    label = page.locator('[name="action.0.content_fr"]')
    expect(label).to_have_value("[fr] Send")

    label.fill("Envoyer")
    page.select_option("#preview-language", "fr")
    buttons = page.locator("#preview-windows .preview-actions")
    expect(buttons).to_have_text("Envoyer")
    page.click("#draft-button")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    stored = Notification.objects.get()
    assert stored.windows_texts["fr"]["action.0.content"] == "Envoyer"
    assert stored.overridden_languages == ["fr"]
    page.goto(f"{live_server.url}{change_url(french_toast.pk)}")
    page.click("#language-tabs button[data-language=fr]")
    expect(label).to_have_value("Envoyer")
    expect(page.locator(".language-panel[data-language=fr] .translation-note")).to_contain_text(
        "Overridden"
    )

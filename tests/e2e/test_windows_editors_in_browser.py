"""A marketer builds a toast's input and button and a tile's sizes from rows, not JSON."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import Notification
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_marketer_adds_a_reply_box_and_a_button_beside_it(page: Page, live_server, bob, news):
    login(page, live_server, bob)
    page.goto(f"/campaigns/notification/add/?app={news.pk}&template=toast")
    page.fill("#id_name", "Reply")
    page.fill("#id_title_en", "A question for you")
    expect(page.locator("#id_actions")).to_be_hidden()

    page.click("text=Add input")
    inputs = page.locator(".field-inputs .rows-editor-row")
    inputs.locator("[data-key=id] input").fill("reply")
    inputs.locator("[data-key=placeholder] input").fill("Type a reply")
    page.click("text=Add button")
    button = page.locator(".field-actions .rows-editor-row")
    expect(button.locator("[data-key=content] .rows-editor-error")).to_have_text("Required.")
    button.locator("[data-key=content] input").fill("Send")
    button.locator("[data-key=arguments] input").fill("action=send")
    button.locator("[data-key=input_id] input").fill("reply")
    expect(button.locator("[data-key=content] .rows-editor-error")).to_have_text("")
    expect(page.locator("#preview-windows .preview-actions")).to_contain_text("Send")

    page.click("#draft-button")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    notification = Notification.objects.get()
    assert notification.inputs == [
        {"id": "reply", "type": "text", "placeholder": "Type a reply", "selections": []}
    ]
    assert notification.actions == [
        {
            "content": "Send",
            "arguments": "action=send",
            "activation_type": "foreground",
            "input_id": "reply",
        }
    ]


def test_a_tile_size_is_removed_with_its_row(page: Page, live_server, bob, news):
    login(page, live_server, bob)
    page.goto(f"/campaigns/notification/add/?app={news.pk}&template=tile")
    page.fill("#id_name", "Tile")
    rows = page.locator(".field-tile_bindings .rows-editor-row")
    expect(rows).to_have_count(2)
    rows.nth(0).locator("[data-key=texts] textarea").fill("Sale\nToday only")
    rows.nth(1).locator("text=Remove this tile size").click()
    expect(rows).to_have_count(1)

    page.click("#draft-button")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert Notification.objects.get().tile_bindings == [
        {"size": "medium", "texts": ["Sale", "Today only"]}
    ]

"""The notification form as a browser submits it, for the composer's tests."""

from __future__ import annotations

import re

from django.http import HttpResponse
from django.test import Client

from devices.models import MobileApp
from tests.html_forms import read_form

ADD = "/campaigns/notification/add/"
PREVIEW = "/campaigns/notification/preview/"
REVIEW = "/campaigns/notification/review/"


def change_url(pk: int) -> str:
    return f"/campaigns/notification/{pk}/change/"


def cancel_url(pk: int) -> str:
    return f"/campaigns/notification/{pk}/cancel/"


def duplicate_url(pk: int) -> str:
    return f"/campaigns/notification/{pk}/duplicate/"


def form_data(app: MobileApp, **fields: object) -> dict:
    """Return a valid form for a standard notification to everyone, sent now; fields override."""
    data = {
        "app": app.pk,
        "name": "Spring sale",
        "template": "standard",
        "platforms": app.platforms(),
        "target_kind": "everyone",
        "schedule_kind": "now",
        "never_expires": "on",
        "default_language": "en",
        "title_en": "Spring is here",
        "body_en": "Everything is 20% off this week.",
        "on_click": "app",
        "custom_data": "{}",
        "track_launches": "on",
        "activation_type": "foreground",
        "duration": "short",
        "scenario": "default",
        "inputs": "[]",
        "actions": "[]",
        "tile_bindings": "[]",
    }
    return {**data, **fields}


def schedule(client: Client, data: dict, url: str = ADD) -> HttpResponse:
    """Press 'Send or schedule' and confirm its review, as the composer does; a form the review
    refuses is submitted as the button would without it, to show its errors."""
    answer = review(client, data, url)
    if not answer.get("valid"):
        return client.post(url, {**data, "_schedule": "1"})
    return client.post(url, {**data, "_confirm": "1", "review_digest": answer["digest"]})


def review(client: Client, data: dict, url: str = ADD) -> dict:
    """Ask for the review 'Send or schedule' opens; {} when it is refused outright."""
    editing = re.search(r"/(\d+)/change/", url)
    body = {**data, "notification_id": editing[1] if editing else ""}
    response = client.post(REVIEW, body)
    return response.json() if response.status_code == 200 else {}


def save_draft(client: Client, data: dict, url: str = ADD) -> HttpResponse:
    """Submit the form with the 'Save as draft' button."""
    return client.post(url, {**data, "_draft": "1"})


def errors(response: HttpResponse) -> dict[str, list[str]]:
    """Return the form's errors by field, as the page shows them."""
    return {
        name: list(messages) for name, messages in response.context["adminform"].form.errors.items()
    }


def opened_form(client: Client, url: str) -> dict:
    """Open a composer page and return its form's values as a browser would submit them."""
    response = client.get(url)
    assert response.status_code == 200
    return read_form(response.content.decode(), "notification_form")

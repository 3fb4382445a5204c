"""Whom the composer's preview is personalized for: the device or user picked, else a recently
seen device of each platform inside the audience, else a made-up one."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from devices.models import Device
from devices.registration import register_device
from tests.conftest import logged_in
from tests.notification_forms import PREVIEW, form_data

GREETING = {
    "title_en": "Hi {{ user.id | default('there') }}",
    "body_en": "On {{ device.platform }}",
}


def device(app, platform: str, user_id: str | None, minutes_ago: int) -> Device:
    address = (
        {"channel_uri": None} if platform == "windows" else {"push_token": uuid.uuid4().hex * 2}
    )
    made, _ = register_device(
        app, uuid.uuid4(), {"platform": platform, "user_id": user_id, **address}
    )
    Device.objects.filter(pk=made.pk).update(
        last_seen=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return made


def previewed(user, app, preview_as: str = "", **fields) -> dict:
    body = {**form_data(app, **GREETING, **fields), "preview_as": preview_as}
    return logged_in(user).post(PREVIEW, body).json()


@pytest.fixture
def people(retail):
    return {
        "ada-ios": device(retail, "ios", "ada", minutes_ago=30),
        "bo-ios": device(retail, "ios", "bo", minutes_ago=1),
        "ada-android": device(retail, "android", "ada", minutes_ago=20),
    }


def test_each_platform_is_personalized_for_its_own_most_recent_device(bob, retail, people):
    result = previewed(bob, retail)

    texts = result["previews"]["en"]["texts"]
    assert texts["ios"]["title"] == "Hi bo" and texts["android"]["title"] == "Hi ada"
    assert str(people["bo-ios"].install_id) in result["samples"]["ios"]
    assert "recently seen iOS device in the audience" in result["samples"]["ios"]


def test_the_default_sample_is_inside_the_audience(bob, retail, people):
    result = previewed(bob, retail, target_kind="user_ids", user_ids="ada")

    assert result["previews"]["en"]["texts"]["ios"]["title"] == "Hi ada"


def test_the_marketer_picks_a_user_or_an_install(bob, retail, people):
    by_user = previewed(bob, retail, preview_as="ada")
    assert by_user["previews"]["en"]["texts"]["ios"]["title"] == "Hi ada"
    assert "the device you picked" in by_user["samples"]["ios"]

    install = str(people["bo-ios"].install_id)
    by_install = previewed(bob, retail, preview_as=install, target_kind="user_ids", user_ids="ada")
    assert by_install["previews"]["en"]["texts"]["ios"]["title"] == "Hi bo"
    payload = by_install["previews"]["en"]["payloads"]["ios"]["text"]
    assert "Hi bo" in payload


def test_an_unknown_pick_says_so_and_keeps_the_default(bob, retail, people):
    result = previewed(bob, retail, preview_as="nobody")

    assert "No device of this app has the install or user ID 'nobody'" in result["samples"]["ios"]
    assert result["previews"]["en"]["texts"]["ios"]["title"] == "Hi bo"


def test_an_app_without_devices_is_previewed_for_made_up_ones(bob, retail):
    result = previewed(bob, retail)

    assert result["samples"]["android"].startswith("Personalized for a made-up Android device")
    assert result["previews"]["en"]["texts"]["android"] == {
        "title": "Hi there",
        "subtitle": "",
        "body": "On android",
    }

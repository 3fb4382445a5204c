"""Each dashboard user's time zone: times are entered and shown in it and stored in UTC; a
local-time send keeps its wall clock; the API speaks UTC whatever the browser says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns.models import Notification
from pushcenter.models import UserTimeZone
from pushcenter.time_zones import COOKIE
from tests.conftest import logged_in
from tests.notification_forms import ADD, form_data, schedule
from tests.test_push_api import CONTENT, send, sent

LIST = "/campaigns/notification/"


@pytest.fixture
def in_paris(bob):
    UserTimeZone.objects.create(user=bob, time_zone="Europe/Paris")
    return logged_in(bob)


def test_a_send_time_is_entered_in_the_users_zone_and_stored_in_utc(in_paris, retail):
    page = in_paris.get(f"{ADD}?app={retail.pk}&template=standard").content.decode()
    assert "Send at (Europe/Paris)" in page and "Time zone: Europe/Paris" in page

    data = form_data(retail, schedule_kind="at", send_at="2030-06-01T10:00")
    assert schedule(in_paris, data).status_code == 302

    assert Notification.objects.get().send_at == datetime(2030, 6, 1, 8, 0, tzinfo=UTC)
    listing = in_paris.get(LIST).content.decode()
    assert "2030-06-01 10:00 Europe/Paris (08:00 UTC)" in listing


def test_a_local_time_send_keeps_its_wall_clock_whatever_the_users_zone(in_paris, retail):
    data = form_data(retail, schedule_kind="local", local_send_at="2030-06-01T18:00")
    assert schedule(in_paris, data).status_code == 302

    notification = Notification.objects.get()
    assert notification.local_send_at == datetime(2030, 6, 1, 18, 0, tzinfo=UTC)
    page = in_paris.get(f"{LIST}{notification.pk}/change/").content.decode()
    assert 'value="2030-06-01T18:00"' in page


def test_the_browsers_zone_is_used_until_the_user_chooses_one(bob, retail):
    client = logged_in(bob)
    client.cookies[COOKIE] = "America/New_York"
    assert (
        "Send at (America/New_York)"
        in client.get(f"{ADD}?app={retail.pk}&template=standard").content.decode()
    )

    client.cookies[COOKIE] = "Mars/Olympus_Mons"
    assert (
        "Send at (UTC)" in client.get(f"{ADD}?app={retail.pk}&template=standard").content.decode()
    )


def test_the_user_chooses_a_zone_and_returns_where_they_were(bob):
    client = logged_in(bob)
    response = client.post("/time-zone/", {"time_zone": "Asia/Tokyo", "next": LIST})

    assert (response.status_code, response["Location"]) == (302, LIST)
    assert UserTimeZone.objects.get(user=bob).time_zone == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, None),
        ({"time_zone": "Asia/Tokyo", "next": "https://elsewhere.example/"}, "/"),
    ],
)
def test_an_unknown_zone_or_an_outside_return_is_refused(bob, body, location):
    response = logged_in(bob).post("/time-zone/", body)

    if location is None:
        assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
        assert not UserTimeZone.objects.exists()
    else:
        assert response["Location"] == location


def test_the_time_zone_page_needs_a_login(client):
    assert client.get("/time-zone/").status_code == 302


def test_the_api_speaks_utc_whatever_the_browser_says(retail, retail_token):
    body = {"notification_content": CONTENT, "send_time": "2030-06-01T10:00:00"}

    notification = sent(send(retail_token, retail, body, HTTP_COOKIE=f"{COOKIE}=Asia/Tokyo"))

    assert notification.send_at == datetime(2030, 6, 1, 10, 0, tzinfo=UTC)

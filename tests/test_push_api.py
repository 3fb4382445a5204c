"""App Center's Push API: the seed's bodies send, and our extensions (schedule, expiry,
launch tracking off, idempotency keys) behave; list, read and cancel; sends reach the sandbox."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns import idempotency, tasks
from campaigns.models import (
    IdempotencyKey,
    Kind,
    Notification,
    ScheduleKind,
    Status,
    TargetKind,
)
from devices.models import MobileApp
from devices.registration import register_device
from devices.services import issue_api_token
from segments.models import Segment
from tests.conftest import send_due, set_sending_rules
from tests.test_device_api import api

pytest_plugins = ["tests.sandbox"]

# The seed's request bodies, verbatim (push-api-audiences.md), the stray comma included.
SEED_BROADCAST = """{
  "notification_content": {
    "name": "First Push From App Center",
    "title": "Push From App Center",
    "body": "Hello! Isn't this an amazing notification message?",
    "custom_data": {"key1": "val1", "key2": "val2"}
  },
  "notification_target": null
}"""
SEED_CONTENT_ONLY = """{
  "notification_content": {
    "name": "First Push From App Center",
    "title": "Push From App Center",
    "body": "Hello! Isn't this an amazing notification message?",
    "custom_data": {"key1": "val1", "key2": "val2"}
  }
}"""
SEED_AUDIENCES = """{
  "notification_content": {
    "name": "Cyclists and Dog Lovers",
    "title": "Crossover Event This Weekend",
    "body": "Do your dogs like to ride bikes? Come to our crossover event this weekend.",
    "custom_data": {"eventDate": "06/01/2020", "eventTime": "08:00 AM"}
  },
  "notification_target": {
    "type": "audiences_target",
    "audiences": ["dog-lovers", "cyclists"]
  }
}"""
SEED_DEVICES = """{
  "notification_content": {
    "name": "First Push From App Center",
    "title": "Push From App Center",
    "body": "Hello! Isn't this an amazing notification message?",
    "custom_data": {"key1": "val1", "key2": "val2"}
  },
  "notification_target": {
    "type": "devices_target",
    "devices": ["00000000-0000-0000-0000-000000000001","00000000-0000-0000-0000-000000000002", "00000000-0000-0000-0000-000000000003"]
  }
}"""  # noqa: E501
SEED_USERS = """{
  "notification_content": {
    "name": "First Push From App Center",
    "title": "Push From App Center",
    "body": "Hello! Isn't this an amazing notification message?",
    "custom_data": {"key1": "val1", "key2": "val2"}
  },
  "notification_target": {
    "type": "user_ids_target",
    "user_ids": [ "james@somecompany.com", "allison@somecompany.com", "anna@somecompany.com" ]
  },
}"""
CONTENT = {"name": "Sale", "title": "Half price", "body": "Today only."}


def push_url(app, notification_id: object = None) -> str:
    url = f"/api/v0.1/apps/{app.organization.name}/{app.name}/push/notifications"
    return url if notification_id is None else f"{url}/{notification_id}"


def send_raw(token: str, app, text: str, **headers):
    return api(token).post(push_url(app), text, content_type="application/json", **headers)


def send(token: str, app, body: dict, **headers):
    return api(token).post(push_url(app), body, format="json", **headers)


def sent(response) -> Notification:
    assert response.status_code == 202, response.json()
    return Notification.objects.get(pk=int(response.json()["notification_id"]))


@pytest.fixture
def audiences(retail):
    for name in ("dog-lovers", "cyclists"):
        Segment.objects.create(app=retail, name=name, definition="exists(carrierCountry)")


# The seed's bodies


@pytest.mark.parametrize("body", [SEED_BROADCAST, SEED_CONTENT_ONLY])
def test_the_seed_broadcast_queues_a_standard_notification_to_everyone(retail, retail_token, body):
    notification = sent(send_raw(retail_token, retail, body))

    assert notification.target_kind == TargetKind.EVERYONE
    assert (notification.name, notification.template) == ("First Push From App Center", "standard")
    assert notification.title_en == "Push From App Center"
    assert notification.body_en == "Hello! Isn't this an amazing notification message?"
    assert notification.custom_data == {"key1": "val1", "key2": "val2"}
    assert notification.platforms == retail.platforms() == ["ios", "android"]
    assert notification.status == Status.SCHEDULED and notification.track_launches
    assert notification.schedule_kind == ScheduleKind.NOW


def test_the_seed_audiences_body_targets_those_segments(retail, retail_token, audiences):
    notification = sent(send_raw(retail_token, retail, SEED_AUDIENCES))

    assert notification.target_kind == TargetKind.SEGMENTS
    assert {s.name for s in notification.segments.all()} == {"dog-lovers", "cyclists"}
    assert notification.custom_data == {"eventDate": "06/01/2020", "eventTime": "08:00 AM"}


def test_the_seed_devices_body_targets_those_install_ids(retail, retail_token):
    notification = sent(send_raw(retail_token, retail, SEED_DEVICES))

    assert notification.target_kind == TargetKind.INSTALL_IDS
    expected = [f"00000000-0000-0000-0000-00000000000{n}" for n in (1, 2, 3)]
    assert notification.install_ids == expected


def test_the_seed_user_ids_body_with_its_stray_comma_targets_those_users(retail, retail_token):
    notification = sent(send_raw(retail_token, retail, SEED_USERS))

    assert notification.target_kind == TargetKind.USER_IDS
    assert notification.user_ids == [
        "james@somecompany.com",
        "allison@somecompany.com",
        "anna@somecompany.com",
    ]


def test_a_comma_inside_a_string_is_kept(retail, retail_token):
    body = '{"notification_content": {"name": "a,}", "body": "x, ]",},}'
    notification = sent(send_raw(retail_token, retail, body))
    assert (notification.name, notification.body_en) == ("a,}", "x, ]")


def test_more_than_a_thousand_devices_are_accepted(retail, retail_token):
    devices = [str(uuid.UUID(int=n)) for n in range(1, 1502)]
    body = {
        "notification_content": CONTENT,
        "notification_target": {"type": "devices_target", "devices": devices},
    }
    assert len(sent(send(retail_token, retail, body)).install_ids) == 1501


# Extensions


def test_a_scheduled_expiring_untracked_notification(retail, retail_token):
    send_time = timezone.now() + timedelta(days=1)
    body = {
        "notification_content": CONTENT,
        "send_time": send_time.isoformat(),
        "expires_at": (send_time + timedelta(hours=2)).isoformat(),
        "track_launches": False,
    }
    notification = sent(send(retail_token, retail, body))

    assert notification.schedule_kind == ScheduleKind.AT
    assert notification.send_at == send_time.replace(microsecond=notification.send_at.microsecond)
    assert notification.expires_at - notification.send_at == timedelta(hours=2)
    assert notification.track_launches is False
    assert notification.status == Status.SCHEDULED


# Refusals name the field and store nothing


def in_past() -> str:
    return (timezone.now() - timedelta(minutes=1)).isoformat()


def in_future(hours: int = 1) -> str:
    return (timezone.now() + timedelta(hours=hours)).isoformat()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "notification_content"),
        ({"notification_content": {"title": "x"}}, "notification_content.name"),
        ({"notification_content": {"name": "x"}}, "notification_content.body"),
        ({"notification_content": {**CONTENT, "title": "t" * 201}}, "notification_content.title"),
        (
            {"notification_content": {**CONTENT, "custom_data": {"a": {"b": 1}}}},
            "notification_content.custom_data",
        ),
        (
            {"notification_content": {**CONTENT, "custom_data": {"aps": "x"}}},
            "notification_content.custom_data",
        ),
        ({"notification_content": {**CONTENT, "colour": "red"}}, "notification_content.colour"),
        (
            {
                "notification_content": CONTENT,
                "notification_target": {"type": "account_ids_target"},
            },
            "notification_target.account_ids",
        ),
        (
            {"notification_content": CONTENT, "notification_target": {"type": "tags_target"}},
            "notification_target.type",
        ),
        (
            {"notification_content": CONTENT, "notification_target": {"type": "devices_target"}},
            "notification_target.devices",
        ),
        (
            {
                "notification_content": CONTENT,
                "notification_target": {"type": "devices_target", "devices": ["nope"]},
            },
            "notification_target.devices.0",
        ),
        (
            {
                "notification_content": CONTENT,
                "notification_target": {"type": "user_ids_target", "user_ids": []},
            },
            "notification_target.user_ids",
        ),
        (
            {
                "notification_content": CONTENT,
                "notification_target": {"type": "audiences_target", "audiences": ["unknown"]},
            },
            "notification_target.audiences",
        ),
        ({"notification_content": CONTENT, "send_time": "tomorrow"}, "send_time"),
        ({"notification_content": CONTENT, "send_time": in_past()}, "send_time"),
        ({"notification_content": CONTENT, "expires_at": in_past()}, "expires_at"),
        (
            {"notification_content": CONTENT, "send_time": in_future(2), "expires_at": in_future()},
            "expires_at",
        ),
        ({"notification_content": CONTENT, "track_launches": "no"}, "track_launches"),
        ({"notification_content": CONTENT, "priority": "high"}, "priority"),
        ({"notification_content": CONTENT, "kind": "bogus"}, "kind"),
    ],
)
def test_a_bad_request_names_the_field_and_stores_nothing(retail, retail_token, body, field):
    response = send(retail_token, retail, body, HTTP_IDEMPOTENCY_KEY="k1")

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["field"] == field, error
    assert error["message"].startswith(f"{field}: ")
    assert not Notification.objects.exists() and not IdempotencyKey.objects.exists()


def test_a_bad_kind_names_the_allowed_values(retail, retail_token):
    response = send(retail_token, retail, {"notification_content": CONTENT, "kind": "bogus"})

    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert '"marketing"' in message and '"transactional"' in message and "bogus" in message


# Kinds: App Center never held API sends back


def test_an_api_send_is_transactional_unless_it_says_marketing(retail, retail_token):
    plain = sent(send(retail_token, retail, {"notification_content": CONTENT}))
    marketing = sent(
        send(retail_token, retail, {"notification_content": CONTENT, "kind": "marketing"})
    )

    assert (plain.kind, marketing.kind) == (Kind.TRANSACTIONAL, Kind.MARKETING)
    details = api(retail_token).get(push_url(retail, plain.pk)).json()
    assert details["kind"] == "transactional"
    assert api(retail_token).get(push_url(retail, marketing.pk)).json()["kind"] == "marketing"


def test_an_api_send_reaches_a_device_a_marketing_send_just_reached(sandbox, retail, retail_token):
    set_sending_rules(retail, min_interval_minutes=30)
    register_device(retail, uuid.uuid4(), {"platform": "ios", "push_token": "aa" * 32})
    welcome = Notification.objects.create(
        app=retail, name="Welcome", platforms=["ios"], status=Status.SCHEDULED, title_en="Hi"
    )
    sends = [welcome]
    sends.append(sent(send(retail_token, retail, {"notification_content": CONTENT})))
    sends.append(
        sent(send(retail_token, retail, {"notification_content": CONTENT, "kind": "marketing"}))
    )

    for notification in sends:
        tasks.start_send.apply(args=[notification.pk])
        send_due(notification)

    statuses = [n.deliveries.get().status for n in sends]
    assert statuses == ["sent", "sent", "skipped"]
    assert len(sandbox.received("apns")) == 2


def test_an_unknown_audience_is_named(retail, retail_token, audiences):
    body = {
        "notification_content": CONTENT,
        "notification_target": {"type": "audiences_target", "audiences": ["cyclists", "cats"]},
    }
    error = send(retail_token, retail, body).json()["error"]
    assert error["field"] == "notification_target.audiences" and "'cats'" in error["message"]
    assert not Notification.objects.exists()


def test_another_apps_audience_is_unknown(retail, retail_token, news, news_token):
    Segment.objects.create(app=retail, name="dog-lovers", definition="exists(carrierCountry)")
    body = {
        "notification_content": CONTENT,
        "notification_target": {"type": "audiences_target", "audiences": ["dog-lovers"]},
    }
    assert send(news_token, news, body).status_code == 400


def test_an_app_without_credentials_is_told_so(organization):
    bare = MobileApp.objects.create(organization=organization, name="bare", display_name="Bare")
    token = issue_api_token(bare, "Bare backend")[1]

    error = send(token, bare, {"notification_content": CONTENT}).json()["error"]

    assert error["field"] is None and "no provider credentials" in error["message"]
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    "text", ['{"notification_content": ', '{"notification_content": NaN}', b'{"\xff": 1}']
)
def test_a_body_that_is_not_json_is_refused(retail, retail_token, text):
    response = send_raw(retail_token, retail, text)
    assert response.status_code == 400 and response.json()["error"]["code"] == "parse_error"


# Idempotency


def test_the_same_key_and_body_twice_send_once(retail, retail_token):
    body = {"notification_content": CONTENT}
    first = send(retail_token, retail, body, HTTP_IDEMPOTENCY_KEY="order-42")
    again = send(retail_token, retail, body, HTTP_IDEMPOTENCY_KEY="order-42")

    assert again.status_code == 202 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Notification.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(retail, retail_token):
    send(retail_token, retail, {"notification_content": CONTENT}, HTTP_IDEMPOTENCY_KEY="k")
    other = {"notification_content": {**CONTENT, "title": "Other"}}

    response = send(retail_token, retail, other, HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "Idempotency-Key"
    assert Notification.objects.get().title_en == "Half price"


def test_a_key_is_per_app_and_forgotten_after_a_day(retail, retail_token, news, news_token):
    body = {"notification_content": CONTENT}
    sent(send(retail_token, retail, body, HTTP_IDEMPOTENCY_KEY="k"))
    sent(send(news_token, news, body, HTTP_IDEMPOTENCY_KEY="k"))
    assert Notification.objects.count() == 2

    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    sent(send(retail_token, retail, body, HTTP_IDEMPOTENCY_KEY="k"))
    assert Notification.objects.count() == 3 and IdempotencyKey.objects.count() == 2


def test_a_racing_request_with_the_same_key_rolls_back_and_answers_the_winner(retail, monkeypatch):
    body = {"notification_content": CONTENT}
    winner = Notification.objects.create(app=retail, name="First")
    IdempotencyKey.objects.create(
        app=retail, key="k", body_hash=idempotency.body_hash(body), notification=winner
    )
    # The other request committed its key after this one looked and found none.
    monkeypatch.setattr(idempotency, "_stored", lambda app, key: None)

    notification, created = idempotency.create_once(
        retail, "k", body, lambda: Notification.objects.create(app=retail, name="Second")
    )

    assert (notification, created) == (winner, False)
    assert list(Notification.objects.all()) == [winner]


def test_a_malformed_key_is_refused(retail, retail_token):
    response = send(
        retail_token, retail, {"notification_content": CONTENT}, HTTP_IDEMPOTENCY_KEY="k" * 256
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "Idempotency-Key"


# Listing, reading, cancelling


def test_the_list_is_newest_first_and_paged(retail, retail_token):
    ids = [
        sent(send(retail_token, retail, {"notification_content": {**CONTENT, "name": f"n{i}"}})).pk
        for i in range(3)
    ]
    client = api(retail_token)

    page = client.get(push_url(retail), {"$top": 2}).json()

    assert [v["notification_id"] for v in page["values"]] == [str(ids[2]), str(ids[1])]
    assert page["total"] == 3
    first = page["values"][0]
    assert (first["name"], first["state"], first["notification_target"]) == ("n2", "Queued", None)
    assert (first["pns_send_success"], first["pns_send_failure"]) == (0, 0)
    rest = client.get(page["nextLink"]).json()
    assert [v["notification_id"] for v in rest["values"]] == [str(ids[0])]
    assert rest["nextLink"] is None


@pytest.mark.parametrize("query", [{"$top": 0}, {"$top": 101}, {"$top": "²"}, {"$skiptoken": "x"}])
def test_bad_paging_names_the_parameter(retail, retail_token, query):
    response = api(retail_token).get(push_url(retail), query)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == next(iter(query))


def test_get_reads_one_with_its_target_and_statistics(retail, retail_token, audiences):
    notification = sent(send_raw(retail_token, retail, SEED_AUDIENCES))

    details = api(retail_token).get(push_url(retail, notification.pk)).json()

    assert details["notification_target"] == {
        "type": "audiences_target",
        "audiences": ["cyclists", "dog-lovers"],
    }
    assert details["notification_content"]["title"] == "Crossover Event This Weekend"
    assert details["statistics"]["targeted"] == 0 and details["failure_outcomes"] == []
    assert details["state"] == "Queued" and details["track_launches"] is True
    assert details["conversion"] is None
    statistics = details["statistics"]
    assert (statistics["conversions"], statistics["conversion_rate"]) == (0, None)
    assert statistics["conversion_value"] is None


def test_delete_cancels_one_not_yet_sent_and_refuses_one_sending(retail, retail_token):
    client = api(retail_token)
    waiting = sent(send(retail_token, retail, {"notification_content": CONTENT}))
    sending = Notification.objects.create(app=retail, name="Going", status=Status.SENDING)

    assert client.delete(push_url(retail, waiting.pk)).status_code == 204
    waiting.refresh_from_db()
    assert waiting.status == Status.CANCELLED
    assert client.get(push_url(retail, waiting.pk)).json()["state"] == "Cancelled"

    refused = client.delete(push_url(retail, sending.pk))
    assert refused.status_code == 409 and "sending" in refused.json()["error"]["message"]
    sending.refresh_from_db()
    assert sending.status == Status.SENDING


def test_another_apps_notification_is_not_found(retail, retail_token, news, news_token):
    theirs = sent(send(news_token, news, {"notification_content": CONTENT}))
    client = api(retail_token)
    for response in (
        client.get(push_url(retail, theirs.pk)),
        client.delete(push_url(retail, theirs.pk)),
        client.get(push_url(retail, "abc")),
        client.get(push_url(retail, "²")),
        client.get(push_url(retail, "9" * 30)),
        client.get(push_url(news)),
        send(retail_token, news, {"notification_content": CONTENT}),
    ):
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.SCHEDULED


def test_a_missing_or_unknown_token_is_refused(retail):
    assert api("nope").get(push_url(retail)).status_code == 401
    assert APIClient().get(push_url(retail)).status_code == 401


# A send through the sandbox, and its launch


def test_a_post_reaches_the_device_and_its_launch_shows_in_the_statistics(
    sandbox, retail, retail_token
):
    register_device(retail, uuid.uuid4(), {"platform": "ios", "push_token": "aa" * 32})
    notification = sent(send_raw(retail_token, retail, SEED_BROADCAST))

    tasks.start_send.apply(args=[notification.pk])
    tasks.send_deliveries.apply(args=[notification.pk])

    [line] = sandbox.received("apns")
    assert line["payload"]["aps"]["alert"]["title"] == "Push From App Center"
    assert line["payload"]["key1"] == "val1"
    launch = api(retail_token).post(
        f"/api/v1/apps/{retail.application_id}/launches",
        {"tracking_id": line["payload"]["tracking_id"]},
        format="json",
    )
    assert launch.status_code == 201, launch.json()
    details = api(retail_token).get(push_url(retail, notification.pk)).json()
    assert (details["state"], details["pns_send_success"]) == ("Completed", 1)
    assert details["statistics"]["launches"] == 1 and details["statistics"]["launch_rate"] == 1.0

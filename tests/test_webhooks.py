"""Webhooks: an app's delivery events reach its own systems in signed batches, retried with
back-off, set aside as dead letters and replayed; a failing or slow endpoint never holds up
sending or another app's endpoint. The receiver is a real HTTPS server on loopback
(tests/webhook_receiver.py); the providers are the sandbox gateways.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date

from campaigns import delivery
from campaigns import tasks as campaigns_tasks
from campaigns.launches import tracking_id
from campaigns.models import Conversion, DeliveryStatus, Notification, Status
from devices import delivery_events
from devices.registration import register_device
from tests.conftest import logged_in, send_due
from tests.h2_server import Authority
from tests.test_device_api import api
from tests.webhook_receiver import Receiver
from webhooks import dispatch, services
from webhooks.models import Attempt, Batch, BatchStatus, Endpoint, Event

pytest_plugins = ["tests.sandbox"]


@pytest.fixture
def authority(tmp_path) -> Authority:
    return Authority(tmp_path, "receiver")


@pytest.fixture
def receiver(request, settings, authority, tmp_path):
    """A receiver the server trusts and may reach on loopback (with the sandbox's CA, if used)."""
    bundle = Path(authority.file).read_text()
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox")
        bundle += Path(settings.CA_BUNDLE).read_text()
    settings.CA_BUNDLE = str(tmp_path / "trusted.pem")
    Path(settings.CA_BUNDLE).write_text(bundle)
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    with Receiver(authority) as running:
        yield running


def webhooks_url(app) -> str:
    return f"/api/v1/apps/{app.application_id}/webhooks"


def create(token: str, app, url: str, events=("sent", "failed", "launched", "opted_out")):
    answer = api(token).post(webhooks_url(app), {"url": url, "events": list(events)}, format="json")
    assert answer.status_code == 201, answer.json()
    return answer.json()


def ios(app, token: str, **fields):
    device, _ = register_device(
        app, uuid.uuid4(), {"platform": "ios", "push_token": token, **fields}
    )
    return device


def started_notification(app) -> Notification:
    """A notification to the app's iOS devices, its deliveries made and not yet sent."""
    notification = Notification.objects.create(
        app=app,
        name="Sale",
        platforms=["ios"],
        status=Status.SCHEDULED,
        send_at=timezone.now(),
        title_en="Half price",
    )
    delivery.start(notification.pk)
    return notification


def sent_notification(app) -> Notification:
    notification = started_notification(app)
    send_due(notification)
    delivery.finish_if_done(notification.pk)
    return notification


def verifies(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Check a signature as a receiver would, written from the README, not from our code."""
    timestamp = headers["Pushcenter-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    offered = [part.removeprefix("v1=") for part in headers["Pushcenter-Signature"].split(",")]
    return any(hmac.compare_digest(expected.hexdigest(), sig) for sig in offered)


def launched(app, count: int) -> None:
    """Announce `count` launches of the app, as campaigns does for each first launch."""
    now = timezone.now()
    delivery_events.announce(
        [
            delivery_events.DeliveryEvent(delivery_events.LAUNCHED, app.pk, str(n), now, 1, n)
            for n in range(1, count + 1)
        ]
    )


def due_now(batch: Batch) -> None:
    Batch.objects.filter(pk=batch.pk).update(next_attempt_at=timezone.now())


def test_a_send_reaches_the_endpoint_as_one_signed_batch(sandbox, receiver, retail, retail_token):
    endpoint = create(retail_token, retail, receiver.url())
    ios(retail, "aa" * 32, user_id="andrew")
    ios(retail, "bb" * 32)
    notification = sent_notification(retail)

    assert dispatch.run_due() == 1

    [post] = receiver.seen
    assert verifies(endpoint["secret"], post.headers, post.body)
    events = json.loads(post.body)["events"]
    assert sorted(e["kind"] for e in events) == ["sent", "sent"]
    deliveries = {d.pk: d for d in notification.deliveries.select_related("device")}
    for event in events:
        sent = deliveries[event["delivery_id"]]
        assert event["id"] == f"sent-{sent.pk}"
        assert event["tracking_id"] == tracking_id(sent.pk)
        assert event["install_id"] == str(sent.device.install_id)
        assert event["notification_id"] == notification.pk
        assert event["app_id"] == str(retail.application_id)
    assert {e["user_id"] for e in events} == {"andrew", None}
    [batch] = Batch.objects.all()
    assert batch.status == BatchStatus.DELIVERED and batch.attempts == 1


def test_a_worker_that_stops_mid_batch_has_announced_every_answer_it_wrote(
    sandbox, receiver, retail, retail_token, monkeypatch
):
    """Answers and their events are written in one transaction, chunk by chunk: a worker that
    dies before its next chunk leaves (here: stops as it marks it sending) announced the first."""
    create(retail_token, retail, receiver.url())
    for token in ("aa", "bb"):
        ios(retail, token * 32)
    notification = started_notification(retail)
    monkeypatch.setattr(delivery, "HANDOVER_SIZE", 1)
    handed_over = delivery.Lease.hand_over

    def stop_at_the_second_chunk(lease, ids):
        if notification.deliveries.filter(status=DeliveryStatus.SENT).exists():
            raise SystemExit("the worker stops")
        return handed_over(lease, ids)

    monkeypatch.setattr(delivery.Lease, "hand_over", stop_at_the_second_chunk)
    with pytest.raises(SystemExit):
        delivery.send_batch(delivery.claim(notification.pk))

    assert dispatch.run_due() == 1
    [sent] = notification.deliveries.filter(status=DeliveryStatus.SENT)
    [event] = json.loads(receiver.seen[0].body)["events"]
    assert (event["kind"], event["delivery_id"]) == ("sent", sent.pk)


def test_a_tampered_body_or_wrong_secret_does_not_verify(sandbox, receiver, retail, retail_token):
    endpoint = create(retail_token, retail, receiver.url())
    ios(retail, "aa" * 32)
    sent_notification(retail)
    dispatch.run_due()
    [post] = receiver.seen

    assert not verifies(endpoint["secret"], post.headers, post.body + b" ")
    assert not verifies("whsec_other", post.headers, post.body)


def test_a_gone_device_is_announced_failed_with_its_reason_and_opted_out(
    sandbox, receiver, retail, retail_token
):
    create(retail_token, retail, receiver.url())
    ios(retail, "dead" + "0" * 60)
    sent_notification(retail)

    dispatch.run_due()

    events = json.loads(receiver.seen[0].body)["events"]
    by_kind = {event["kind"]: event for event in events}
    assert set(by_kind) == {"failed", "opted_out"}
    assert by_kind["failed"]["data"]["reason"].startswith("Unregistered")


def test_an_endpoint_gets_only_the_kinds_it_wants(sandbox, receiver, retail, retail_token):
    create(retail_token, retail, receiver.url(), events=["failed"])
    ios(retail, "aa" * 32)
    sent_notification(retail)

    assert dispatch.run_due() == 0
    assert not Event.objects.exists()


def test_capturing_adds_one_statement_to_a_sending_batch_and_none_without_an_endpoint(
    sandbox, receiver, no_caps, retail_token
):
    """Compare the statements of the same batch with and without an endpoint wanting sent.

    The answers and their events share a transaction (a savepoint inside the test's own)."""

    def statements_of_a_send(app, token: str) -> int:
        ios(app, token)
        notification = Notification.objects.create(
            app=app, name="n", platforms=["ios"], status=Status.SCHEDULED, title_en="t"
        )
        delivery.start(notification.pk)
        ids = delivery.claim(notification.pk)
        delivery_events.wanted(app.pk)  # the kinds are cached once, not per batch
        with CaptureQueriesContext(connection) as queries:
            delivery.send_batch(ids)
        return len([query for query in queries if "SAVEPOINT" not in query["sql"]])

    without = statements_of_a_send(no_caps, "aa" * 32)
    create(retail_token, no_caps, receiver.url())
    with_endpoint = statements_of_a_send(no_caps, "bb" * 32)

    assert with_endpoint == without + 1
    assert Event.objects.filter(kind="sent").count() == 2


def test_events_are_batched_a_hundred_to_a_post(receiver, retail, retail_token):
    create(retail_token, retail, receiver.url())
    launched(retail, 250)

    assert dispatch.run_due() == 3

    sizes = [len(json.loads(post.body)["events"]) for post in receiver.seen]
    assert sorted(sizes) == [50, 100, 100]
    ids = [e["id"] for post in receiver.seen for e in json.loads(post.body)["events"]]
    assert len(set(ids)) == 250


def test_announcing_the_same_moment_twice_posts_it_once(receiver, retail, retail_token):
    create(retail_token, retail, receiver.url())
    launched(retail, 1)
    launched(retail, 1)

    dispatch.run_due()

    [post] = receiver.seen
    assert len(json.loads(post.body)["events"]) == 1


def test_a_retryable_answer_is_tried_again_after_the_wait_it_asked_for(
    receiver, retail, retail_token
):
    create(retail_token, retail, receiver.url())
    receiver.answers = [(503, {"Retry-After": "900"})]
    launched(retail, 1)
    before = timezone.now()

    dispatch.run_due()

    [batch] = Batch.objects.all()
    assert batch.status == BatchStatus.PENDING and batch.attempts == 1
    assert batch.next_attempt_at >= before + timedelta(seconds=900)
    assert batch.last_error == "HTTP 503"
    assert dispatch.run_due() == 0  # not due yet

    due_now(batch)
    assert dispatch.run_due() == 1
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DELIVERED
    assert list(batch.attempt_rows.order_by("number").values_list("outcome", "status_code")) == [
        ("retry", 503),
        ("delivered", 200),
    ]
    assert len(receiver.seen) == 2


def test_a_retry_after_given_as_an_http_date_is_honoured(receiver, retail, retail_token):
    create(retail_token, retail, receiver.url())
    in_twenty_minutes = timezone.now() + timedelta(minutes=20)
    receiver.answers = [(503, {"Retry-After": http_date(in_twenty_minutes.timestamp())})]
    launched(retail, 1)

    dispatch.run_due()

    [batch] = Batch.objects.all()
    # The table's first wait is 30 s; the date asks for 20 minutes (to the second).
    assert batch.next_attempt_at >= in_twenty_minutes - timedelta(seconds=1)


def test_a_retry_after_beyond_the_cap_waits_the_cap(receiver, retail, retail_token):
    create(retail_token, retail, receiver.url())
    receiver.answers = [(429, {"Retry-After": "86400"})]
    launched(retail, 1)

    dispatch.run_due()

    [batch] = Batch.objects.all()
    assert batch.next_attempt_at <= timezone.now() + dispatch.RETRY_AFTER_CAP


def test_the_waits_grow_with_each_try_and_keep_jitter_within_a_fifth():
    for tries, wait in enumerate(dispatch.RETRY_WAITS, start=1):
        got = dispatch.next_wait(tries, None)
        assert wait * 0.8 <= got <= wait * 1.2
    assert list(dispatch.RETRY_WAITS) == sorted(dispatch.RETRY_WAITS)


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_a_client_error_is_permanent_and_the_batch_becomes_a_dead_letter(
    receiver, retail, retail_token, status
):
    create(retail_token, retail, receiver.url())
    receiver.answers = [(status, {})]
    launched(retail, 1)

    dispatch.run_due()

    [batch] = Batch.objects.all()
    assert batch.status == BatchStatus.DEAD and batch.attempts == 1
    assert batch.last_error == f"HTTP {status}: the endpoint refused the batch."
    [attempt] = Attempt.objects.all()
    assert len(attempt.response_prefix) == dispatch.RESPONSE_PREFIX


@pytest.mark.parametrize("status", [408, 429, 500, 502])
def test_a_timeout_or_rate_limit_or_server_error_is_retried(receiver, retail, retail_token, status):
    create(retail_token, retail, receiver.url())
    receiver.answers = [(status, {})]
    launched(retail, 1)

    dispatch.run_due()

    [batch] = Batch.objects.all()
    assert batch.status == BatchStatus.PENDING


def test_a_redirect_is_not_followed(receiver, retail, retail_token):
    create(retail_token, retail, receiver.url())
    receiver.answers = [(301, {"Location": "https://example.com/"})]
    launched(retail, 1)

    dispatch.run_due()

    [batch] = Batch.objects.all()
    assert batch.status == BatchStatus.DEAD and "redirects are not followed" in batch.last_error
    assert len(receiver.seen) == 1


def test_after_the_last_try_the_batch_is_a_dead_letter_and_replay_delivers_it(
    receiver, retail, retail_token
):
    create(retail_token, retail, receiver.url())
    receiver.answers = [(500, {})] * dispatch.MAX_TRIES
    launched(retail, 1)
    [batch] = [None]
    for _ in range(dispatch.MAX_TRIES):
        dispatch.run_due()
        [batch] = Batch.objects.all()
        due_now(batch)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DEAD and batch.attempts == dispatch.MAX_TRIES

    dead = api(retail_token).get(f"{webhooks_url(retail)}/dead-letters").json()
    assert [letter["id"] for letter in dead["results"]] == [batch.pk] and dead["next"] is None
    replayed = api(retail_token).post(
        f"{webhooks_url(retail)}/dead-letters/replay", {"ids": [batch.pk]}, format="json"
    )
    assert replayed.json() == {"replayed": 1}
    assert dispatch.run_due() == 1

    batch.refresh_from_db()
    assert batch.status == BatchStatus.DELIVERED
    assert receiver.seen[-1].body == receiver.seen[0].body


def test_dead_letters_are_listed_newest_first_a_page_at_a_time(receiver, retail, retail_token):
    create(retail_token, retail, receiver.url())
    endpoint = Endpoint.objects.get()
    dead = [
        Batch.objects.create(endpoint=endpoint, body="[]", event_count=0, status=BatchStatus.DEAD)
        for _ in range(3)
    ]
    client = api(retail_token)

    first = client.get(f"{webhooks_url(retail)}/dead-letters", {"limit": 2}).json()
    rest = client.get(first["next"]).json()

    assert [letter["id"] for letter in first["results"] + rest["results"]] == [
        batch.pk for batch in reversed(dead)
    ]
    assert rest["next"] is None
    for query, field in (({"limit": 0}, "limit"), ({"cursor": "x"}, "cursor"), ({"n": 1}, "n")):
        refused = client.get(f"{webhooks_url(retail)}/dead-letters", query)
        assert refused.status_code == 400 and refused.json()["error"]["field"] == field


def test_sending_completes_while_the_endpoint_hangs(sandbox, receiver, retail, retail_token):
    endpoint = Endpoint.objects.get(pk=create(retail_token, retail, receiver.url())["id"])
    receiver.hang()
    client = dispatch.http_client()
    posting = threading.Thread(target=dispatch.post, args=(client, endpoint, b'{"events":[]}', 1))
    posting.start()
    try:
        ios(retail, "aa" * 32)
        notification = sent_notification(retail)

        notification.refresh_from_db()
        assert notification.status == Status.COMPLETED
        assert posting.is_alive()  # the endpoint still has not answered
        assert Event.objects.filter(kind="sent").count() == 1
    finally:
        receiver.release()
        posting.join()
        client.close()


def test_an_endpoint_that_does_not_answer_in_time_is_retried(
    settings, receiver, retail, retail_token
):
    create(retail_token, retail, receiver.url())
    settings.WEBHOOKS_TIMEOUT_SECONDS = 1
    receiver.hang()
    launched(retail, 1)

    dispatch.run_due()
    receiver.release()

    [batch] = Batch.objects.all()
    assert batch.status == BatchStatus.PENDING
    assert batch.last_error == "No answer within the time allowed (1 s)."


def test_one_apps_failing_endpoint_does_not_stop_anothers(
    settings, authority, receiver, retail, news, retail_token, news_token
):
    create(retail_token, retail, receiver.url())
    receiver.answers = [(500, {})]
    with Receiver(authority) as other:
        create(news_token, news, other.url())
        launched(retail, 1)
        launched(news, 1)

        dispatch.run_due()

        assert len(other.seen) == 1
    statuses = dict(Batch.objects.values_list("endpoint__app__name", "status"))
    assert statuses == {"retail": BatchStatus.PENDING, "news": BatchStatus.DELIVERED}


def test_one_endpoint_that_cannot_be_claimed_leaves_the_others_lanes(
    receiver, retail, news, retail_token, news_token, monkeypatch
):
    broken = create(retail_token, retail, receiver.url())["id"]
    create(news_token, news, receiver.url())
    launched(retail, 1)
    launched(news, 1)
    while endpoints := dispatch.endpoints_with_new_events():
        for endpoint_id in endpoints:
            dispatch.make_batches(endpoint_id)
    claim = dispatch.claim

    def fails_for_one(endpoint_id, count):
        if endpoint_id == broken:
            raise RuntimeError("its rows are locked")
        return claim(endpoint_id, count)

    monkeypatch.setattr(dispatch, "claim", fails_for_one)
    [claimed] = dispatch.claim_lanes()

    assert Batch.objects.get(pk=claimed).endpoint.app == news


def test_an_endpoint_failing_again_and_again_is_paused_and_stops_receiving(
    receiver, retail, retail_token, monkeypatch
):
    endpoint = Endpoint.objects.get(pk=create(retail_token, retail, receiver.url())["id"])
    Endpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=dispatch.PAUSE_AFTER_FAILURES - 1
    )
    receiver.answers = [(500, {})]
    launched(retail, 1)

    dispatch.run_due()

    endpoint.refresh_from_db()
    assert endpoint.paused_at is not None and "Paused after" in endpoint.paused_reason
    assert delivery_events.LAUNCHED not in delivery_events.wanted(retail.pk)
    answer = api(retail_token).patch(
        f"{webhooks_url(retail)}/{endpoint.pk}", {"enabled": True}, format="json"
    )
    assert answer.json()["paused_at"] is None
    assert delivery_events.LAUNCHED in delivery_events.wanted(retail.pk)


def test_a_launch_reported_through_the_api_is_announced(receiver, retail, retail_token):
    create(retail_token, retail, receiver.url())
    device = ios(retail, "aa" * 32)
    notification = Notification.objects.create(
        app=retail, name="n", platforms=["ios"], status=Status.COMPLETED, title_en="t"
    )
    sent = notification.deliveries.create(device=device, platform="ios", status="sent")

    api(retail_token).post(
        f"/api/v1/apps/{retail.application_id}/launches",
        {"tracking_id": tracking_id(sent.pk)},
        format="json",
    )
    dispatch.run_due()

    [event] = json.loads(receiver.seen[0].body)["events"]
    assert event["kind"] == "launched" and event["delivery_id"] == sent.pk
    assert event["install_id"] == str(device.install_id)


def test_a_counted_conversion_is_posted_with_its_goal_and_value(
    sandbox, receiver, retail, retail_token
):
    create(retail_token, retail, receiver.url(), events=["converted"])
    device = ios(retail, "ab" * 32, user_id="andrew")
    sale = sent_notification(retail)
    sale.conversion_event, sale.conversion_value_property = "purchase", "revenue"
    sale.save(update_fields=["conversion_event", "conversion_value_property"])
    body = {"name": "purchase", "install_ids": [str(device.install_id)]}
    body["properties"] = {"revenue": 19.5}
    events_url = f"/api/v1/apps/{retail.application_id}/events"
    assert api(retail_token).post(events_url, body, format="json").status_code == 202

    # A run reads the events the run before it saw.
    campaigns_tasks.count_conversions()
    campaigns_tasks.count_conversions()
    dispatch.run_due()

    [event] = json.loads(receiver.seen[0].body)["events"]
    conversion = Conversion.objects.get()
    assert event["id"] == f"converted-{conversion.pk}" and event["user_id"] == "andrew"
    assert event["notification_id"] == sale.pk and event["delivery_id"] == conversion.delivery_id
    assert event["data"] == {"event": "purchase", "value": 19.5}


def test_turning_push_off_at_registration_is_announced_once(receiver, retail, retail_token):
    create(retail_token, retail, receiver.url(), events=["opted_out"])
    install = uuid.uuid4()
    registration = {"platform": "ios", "push_token": "aa" * 32}
    register_device(retail, install, registration)

    register_device(retail, install, {**registration, "push_enabled": False})
    register_device(retail, install, {**registration, "push_enabled": False})
    dispatch.run_due()

    [event] = json.loads(receiver.seen[0].body)["events"]
    assert event["kind"] == "opted_out" and event["install_id"] == str(install)
    assert event["data"] == {"cause": "push_turned_off"}


def test_a_rotated_secret_keeps_the_old_one_signing_for_a_while(receiver, retail, retail_token):
    old = create(retail_token, retail, receiver.url())
    rotated = api(retail_token).post(f"{webhooks_url(retail)}/{old['id']}/rotate-secret")
    new_secret = rotated.json()["secret"]
    assert new_secret != old["secret"]
    launched(retail, 1)

    dispatch.run_due()

    [post] = receiver.seen
    assert verifies(new_secret, post.headers, post.body)
    assert verifies(old["secret"], post.headers, post.body)


def test_the_secret_is_shown_once_and_stored_encrypted(retail, retail_token):
    created = create(retail_token, retail, "https://93.184.215.14/hooks")
    endpoint = Endpoint.objects.get(pk=created["id"])

    assert created["secret"].startswith("whsec_")
    assert created["secret"] not in endpoint.encrypted_secret
    assert endpoint.signing_secrets() == [created["secret"]]
    read = api(retail_token).get(f"{webhooks_url(retail)}/{endpoint.pk}").json()
    assert "secret" not in read and created["secret"] not in json.dumps(read)


def test_a_test_event_is_posted(receiver, retail, retail_token):
    created = create(retail_token, retail, receiver.url())

    answer = api(retail_token).post(f"{webhooks_url(retail)}/{created['id']}/test")
    assert answer.status_code == 202
    dispatch.run_due()

    [event] = json.loads(receiver.seen[0].body)["events"]
    assert event["kind"] == "test"


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://hooks.example.com/", "must be an https URL"),
        ("https://user:secret@hooks.example.com/", "must not carry a user name or password"),
        ("https://10.0.0.8/hooks", "non-public address (10.0.0.8)"),
        ("https://192.168.1.1/", "non-public address"),
        ("https://169.254.169.254/latest/meta-data", "non-public address"),
        ("https://127.0.0.1/", "non-public address"),
        ("https://[::1]/", "non-public address"),
        ("https://[::ffff:10.0.0.1]/", "non-public address (10.0.0.1)"),
        ("https://localhost/", "its host localhost resolves to"),
        ("https://hooks.example.com:99999/", "is not a well-formed URL"),
        ("ftp://hooks.example.com/", "must be an https URL"),
    ],
)
def test_an_endpoint_that_points_inward_is_refused(settings, retail, retail_token, url, rule):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False

    answer = api(retail_token).post(
        webhooks_url(retail), {"url": url, "events": ["sent"]}, format="json"
    )

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["field"] == "url" and rule in error["message"]
    assert not Endpoint.objects.exists()


def test_an_unknown_kind_is_refused_naming_the_field(retail, retail_token):
    answer = api(retail_token).post(
        webhooks_url(retail),
        {"url": "https://93.184.215.14/", "events": ["bounced"]},
        format="json",
    )

    assert answer.status_code == 400 and answer.json()["error"]["field"] == "events.0"


def test_an_app_has_a_bounded_number_of_endpoints(retail, retail_token):
    for n in range(10):
        create(retail_token, retail, f"https://93.184.215.14/{n}")

    answer = api(retail_token).post(
        webhooks_url(retail), {"url": "https://93.184.215.14/", "events": ["sent"]}, format="json"
    )

    assert answer.status_code == 400 and "at most 10" in answer.json()["error"]["message"]
    assert Endpoint.objects.count() == 10


def test_another_apps_token_reaches_none_of_its_endpoints(retail, news, retail_token, news_token):
    created = create(retail_token, retail, "https://93.184.215.14/hooks")

    assert api(news_token).get(webhooks_url(retail)).status_code == 404
    theirs = f"{webhooks_url(news)}/{created['id']}"
    assert api(news_token).get(theirs).status_code == 404
    assert api(news_token).delete(theirs).status_code == 404
    assert api(news_token).post(f"{theirs}/rotate-secret").status_code == 404
    assert Endpoint.objects.filter(pk=created["id"]).exists()


def test_a_client_key_cannot_manage_webhooks(retail, retail_client_key):
    answer = api(retail_client_key).get(webhooks_url(retail))

    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "server_token_required"


def test_the_dashboard_shows_endpoints_only_to_people_of_their_app(
    retail, news, retail_token, news_token, carol, dave
):
    """carol (developer of retail) manages retail's endpoints, never news'; dave (a marketer)
    has no webhook pages."""
    ours = create(retail_token, retail, "https://93.184.215.14/retail")
    theirs = create(news_token, news, "https://93.184.215.14/news")

    developer = logged_in(carol)
    listed = developer.get("/webhooks/endpoint/")
    assert listed.status_code == 200
    assert b"/retail" in listed.content and b"/news" not in listed.content
    assert developer.get(f"/webhooks/endpoint/{theirs['id']}/change/").status_code == 302
    assert developer.post(f"/webhooks/endpoint/{theirs['id']}/rotate/").status_code == 404
    assert developer.post(f"/webhooks/endpoint/{ours['id']}/test/").status_code == 302
    assert Batch.objects.filter(endpoint_id=ours["id"]).count() == 1

    marketer = logged_in(dave)
    assert marketer.get("/webhooks/endpoint/").status_code == 403
    assert marketer.get("/webhooks/batch/").status_code == 403


def test_the_dashboard_refuses_an_inward_url_naming_the_rule(settings, alice, retail):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False

    answer = logged_in(alice).post(
        "/webhooks/endpoint/add/",
        {"app": retail.pk, "url": "https://169.254.169.254/", "events": ["sent"], "enabled": "on"},
    )

    assert answer.status_code == 200
    assert "non-public address" in answer.context["adminform"].form.errors["url"][0]
    assert not Endpoint.objects.exists()


def test_replay_all_in_the_dashboard_reaches_only_the_users_apps(
    retail, news, retail_token, news_token, carol
):
    ours = Endpoint.objects.get(pk=create(retail_token, retail, "https://93.184.215.14/r")["id"])
    theirs = Endpoint.objects.get(pk=create(news_token, news, "https://93.184.215.14/n")["id"])
    for endpoint in (ours, theirs):
        Batch.objects.create(
            endpoint=endpoint, body="{}", event_count=1, status=BatchStatus.DEAD, attempts=8
        )

    answer = logged_in(carol).post("/webhooks/batch/replay-all/", {"app": ""})

    assert answer.status_code == 302
    statuses = dict(Batch.objects.values_list("endpoint__app__name", "status"))
    assert statuses == {"retail": BatchStatus.PENDING, "news": BatchStatus.DEAD}


def test_an_endpoint_is_posted_to_by_two_lanes_at_most_and_others_get_theirs(
    retail, news, retail_token, news_token
):
    slow = Endpoint.objects.get(pk=create(retail_token, retail, "https://93.184.215.14/r")["id"])
    other = Endpoint.objects.get(pk=create(news_token, news, "https://93.184.215.14/n")["id"])
    for _ in range(5):
        services.send_test_event(slow)
    services.send_test_event(other)

    first = dispatch.claim_lanes()
    again = dispatch.claim_lanes()  # the first lanes are still posting

    claimed = Batch.objects.filter(pk__in=first)
    assert claimed.filter(endpoint=slow).count() == dispatch.LANES_PER_ENDPOINT
    assert claimed.filter(endpoint=other).count() == 1
    assert again == []


def test_webhook_posts_run_on_their_own_queue(settings):
    assert settings.CELERY_TASK_ROUTES["webhooks.deliver"] == {"queue": "webhooks"}


def test_the_readmes_receiver_example_verifies_a_batch(receiver, retail, retail_token):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    example = readme.split("**Verifying a batch.**", 1)[1].split("```python\n", 1)[1]
    namespace: dict = {}
    exec(example.split("```", 1)[0], namespace)  # noqa: S102 - our own README's example
    endpoint = create(retail_token, retail, receiver.url())
    launched(retail, 2)
    dispatch.run_due()
    [post] = receiver.seen

    events = namespace["verified_events"](endpoint["secret"], post.headers, post.body)

    assert [event["kind"] for event in events] == ["launched", "launched"]
    with pytest.raises(ValueError, match="bad signature"):
        namespace["verified_events"](endpoint["secret"], post.headers, post.body + b"x")


def test_an_endpoints_url_and_secret_stay_out_of_the_logs(caplog, receiver, retail, retail_token):
    created = create(retail_token, retail, receiver.url("/hooks?token=theirs-1234"))
    launched(retail, 1)

    dispatch.run_due()

    assert receiver.seen[0].path == "/hooks?token=theirs-1234"
    assert "theirs-1234" not in caplog.text and created["secret"] not in caplog.text


def test_each_lane_posts_its_batches_over_one_connection(receiver, retail, retail_token):
    create(retail_token, retail, receiver.url())
    launched(retail, 500)

    assert dispatch.run_due() == 5

    assert len({post.client for post in receiver.seen}) == dispatch.LANES_PER_ENDPOINT

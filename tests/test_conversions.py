"""Conversions: a recipient's first goal event within the window after the delivery counts once.

Notifications go out through the sandbox gateways; the goal events come in through the Events
API; the periodic tasks (conversions, then rollups) run as Beat runs them. Each test then
places the deliveries' sending and launch times, so windows are measured from known moments.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from campaigns import conversions, delivery, tasks
from campaigns.models import (
    Conversion,
    ConversionMark,
    Delivery,
    DeliveryStatus,
    Notification,
    Status,
)
from devices.models import Device, MobileApp
from devices.registration import register_device
from events.models import Event
from journeys import runner
from metrics import tasks as metrics_tasks
from metrics.models import NotificationSummary
from tests import notification_forms
from tests import test_journeys_dashboard as journey_pages
from tests.conftest import logged_in, set_sending_rules
from tests.test_device_api import api

pytest_plugins = ["tests.sandbox"]

HOUR = 60


def phone(app: MobileApp, user_id: str | None = None) -> Device:
    """An iPhone of retail's, or a Windows PC of news'."""
    if app.name == "news":
        uri = f"https://db5.notify.windows.com/?t={uuid.uuid4().hex}"
        address = {"platform": "windows", "channel_uri": uri}
    else:
        # No sandbox fault starts with "ab".
        address = {"platform": "ios", "push_token": "ab" + uuid.uuid4().hex * 2}
    return register_device(app, uuid.uuid4(), {**address, "user_id": user_id})[0]


def sent(app: MobileApp, at: datetime, **goal: object) -> Notification:
    """Send a notification with this conversion goal to every device; each was sent `at`."""
    set_sending_rules(app, min_interval_minutes=0)
    goal = {"conversion_event": "purchase", "conversion_window_minutes": HOUR, **goal}
    notification = Notification.objects.create(
        app=app,
        name="Sale",
        platforms=app.platforms(),
        status=Status.SCHEDULED,
        send_at=timezone.now(),
        title_en="Half price",
        **goal,
    )
    delivery.start(notification.pk)
    delivery.send_batch(delivery.claim(notification.pk))
    delivery.finish_if_done(notification.pk)
    notification.deliveries.update(sent_at=at)
    return notification


def report(token: str, app: MobileApp, at: datetime, *, name: str = "purchase", **who: object):
    """Report an event through the Events API, as the app's backend does."""
    body = {"name": name, "timestamp": at.isoformat(), **who}
    response = api(token).post(f"/api/v1/apps/{app.application_id}/events", body, format="json")
    assert response.status_code == 202, response.content
    return response


def bought(token: str, app: MobileApp, device: Device, at: datetime, **properties: object):
    report(token, app, at, install_ids=[str(device.install_id)], properties=properties)


def converted(notification: Notification) -> dict[int, datetime]:
    """Each converted device's conversion time."""
    rows = Conversion.objects.filter(notification=notification).select_related("delivery")
    return {row.delivery.device_id: row.converted_at for row in rows}


def count_conversions() -> int:
    """Run the task twice, as Beat does a sweep apart: a run reads what the run before saw."""
    return tasks.count_conversions() + tasks.count_conversions()


@pytest.fixture
def start() -> datetime:
    """When the deliveries were sent: two hours ago, so a whole window lies in the past."""
    return (timezone.now() - timedelta(hours=2)).replace(microsecond=0)


def test_it_counts_a_conversion_once_per_delivery_at_its_first_event(
    sandbox, retail, retail_token, start
):
    ada = phone(retail)
    sale = sent(retail, start)
    bought(retail_token, retail, ada, start + timedelta(minutes=20))
    bought(retail_token, retail, ada, start + timedelta(minutes=5))
    bought(retail_token, retail, ada, start + timedelta(minutes=40))

    assert count_conversions() == 1

    assert converted(sale) == {ada.pk: start + timedelta(minutes=5)}


def test_an_event_counts_up_to_the_windows_end_and_not_before_the_sending(
    sandbox, retail, retail_token, start
):
    at_end, past_end, before, at_start = (phone(retail) for _ in range(4))
    sale = sent(retail, start)
    end = start + timedelta(minutes=HOUR)
    bought(retail_token, retail, at_end, end)
    bought(retail_token, retail, past_end, end + timedelta(seconds=1))
    bought(retail_token, retail, before, start - timedelta(seconds=1))
    bought(retail_token, retail, at_start, start)

    count_conversions()

    assert converted(sale) == {at_end.pk: end, at_start.pk: start}


def test_a_window_from_the_launch_counts_only_launched_deliveries_after_their_launch(
    sandbox, retail, retail_token, start
):
    opened_then_bought, bought_then_opened, never_opened = (phone(retail) for _ in range(3))
    sale = sent(retail, start, conversion_starts="launched")
    launch = start + timedelta(minutes=30)
    Delivery.objects.filter(
        notification=sale, device__in=[opened_then_bought, bought_then_opened]
    ).update(launched_at=launch)
    bought(retail_token, retail, opened_then_bought, launch + timedelta(minutes=50))
    bought(retail_token, retail, bought_then_opened, launch - timedelta(minutes=1))
    bought(retail_token, retail, never_opened, start + timedelta(minutes=10))

    count_conversions()

    # 50 minutes after the launch is 80 after the sending: in the launch's window only.
    assert converted(sale) == {opened_then_bought.pk: launch + timedelta(minutes=50)}


def test_a_user_with_two_devices_converts_once(sandbox, retail, retail_token, start):
    for user_id in ("ada", "ada", "bo"):
        phone(retail, user_id)
    sale = sent(retail, start)
    report(retail_token, retail, start + timedelta(minutes=3), user_ids=["ada"])
    report(retail_token, retail, start + timedelta(minutes=4), user_ids=["ada", "bo"])

    count_conversions()

    rows = Conversion.objects.filter(notification=sale)
    assert sorted(row.person for row in rows) == ["ada", "bo"]
    assert rows.get(person="ada").converted_at == start + timedelta(minutes=3)
    assert sale.deliveries.count() == 3


def test_the_value_property_is_summed_and_a_bad_value_counts_without_one(
    sandbox, retail, retail_token, start
):
    devices = [phone(retail) for _ in range(6)]
    sale = sent(retail, start, conversion_value_property="revenue")
    values = [12.5, 7, "20", True, 1e20, None]
    for device, value in zip(devices, values, strict=True):
        properties = {} if value is None else {"revenue": value}
        bought(retail_token, retail, device, start + timedelta(minutes=1), **properties)

    count_conversions()
    metrics_tasks.roll_up()

    rows = Conversion.objects.filter(notification=sale)
    assert rows.count() == 6
    assert sorted(row.value for row in rows if row.value is not None) == [7, Decimal("12.5")]
    summary = NotificationSummary.objects.get(notification=sale)
    assert (summary.conversions, summary.conversion_value) == (6, Decimal("19.5"))
    assert summary.conversion_rate == 1


def test_running_twice_makes_the_same_rows_and_a_late_event_still_counts(
    sandbox, retail, retail_token, start
):
    early, late = phone(retail), phone(retail)
    sale = sent(retail, start)
    bought(retail_token, retail, early, start + timedelta(minutes=10))

    assert count_conversions() == 1
    first = list(Conversion.objects.values_list("id", "delivery_id", "converted_at"))
    assert count_conversions() == 0
    assert list(Conversion.objects.values_list("id", "delivery_id", "converted_at")) == first

    # Reported now, it happened inside the window: it counts at the next run.
    bought(retail_token, retail, late, start + timedelta(minutes=59))
    assert count_conversions() == 1
    assert set(converted(sale)) == {early.pk, late.pk}
    last_event = max(conversion.event_id for conversion in Conversion.objects.all())
    assert ConversionMark.objects.get(app=retail).event_id == last_event


def test_a_run_reads_at_most_its_bound_of_events_and_the_next_run_goes_on(
    sandbox, retail, retail_token, start
):
    devices = [phone(retail) for _ in range(3)]
    sale = sent(retail, start)
    for device in devices:
        bought(retail_token, retail, device, start + timedelta(minutes=1))

    # A run reads the events the run before it saw; three events and a bound of two stand for
    # the task's bound of ten thousand.
    assert conversions.count(retail.pk, limit=2) == []
    assert len(conversions.count(retail.pk, limit=2)) == 2
    assert len(conversions.count(retail.pk, limit=2)) == 1
    assert len(conversions.count(retail.pk, limit=2)) == 0
    assert len(converted(sale)) == 3


def test_an_apps_first_goal_reads_the_events_reported_from_then_not_its_history(
    sandbox, retail, retail_token, start
):
    ada = phone(retail)
    report(retail_token, retail, start, name="app_open", install_ids=[str(ada.install_id)])
    history = Event.objects.get()

    sent(retail, start)

    assert ConversionMark.objects.get(app=retail).event_id == history.id
    bought(retail_token, retail, ada, start + timedelta(minutes=3))
    assert count_conversions() == 1


def test_an_event_committed_after_a_newer_one_is_still_counted(
    sandbox, retail, retail_token, start
):
    early, late = phone(retail), phone(retail)
    sale = sent(retail, start)
    bought(retail_token, retail, early, start + timedelta(minutes=1))
    first = Event.objects.get()
    # An id taken later but committed first, then an earlier id whose transaction took longer.
    moved_on = Event.objects.create(
        app=retail, device=early, name="app_open", occurred_at=start, id=first.id + 10
    )
    tasks.count_conversions()  # sees the newer id
    Event.objects.create(
        app=retail, device=late, name="purchase", occurred_at=start, id=first.id + 5
    )

    tasks.count_conversions()  # reads up to the id it saw

    assert set(converted(sale)) == {early.pk, late.pk}
    assert ConversionMark.objects.get(app=retail).event_id == moved_on.id


@contextmanager
def refusing_conversions_of(notification: Notification) -> Iterator[None]:
    """Make the database refuse to store the notification's conversions, as a full disk or a
    broken constraint would: a trigger raises on each of its rows."""
    table = Conversion._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER refuse BEFORE INSERT ON {table} FOR EACH ROW "
                f"WHEN (NEW.notification_id = {notification.pk}) EXECUTE FUNCTION refuse()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER refuse BEFORE INSERT ON {table} "
                f"WHEN NEW.notification_id = {notification.pk} "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            f"DROP TRIGGER refuse{' ON ' + table if connection.vendor == 'postgresql' else ''}"
        )


def test_one_apps_failure_does_not_stop_another_app_and_it_is_counted_once_fixed(
    sandbox, retail, retail_token, news, news_token, start
):
    ada, cy = phone(retail), phone(news)
    retail_sale, news_sale = sent(retail, start), sent(news, start)
    bought(retail_token, retail, ada, start + timedelta(minutes=2))
    bought(news_token, news, cy, start + timedelta(minutes=2))

    with refusing_conversions_of(retail_sale):
        assert count_conversions() == 1

    assert set(converted(news_sale)) == {cy.pk}
    assert not Conversion.objects.filter(notification=retail_sale).exists()
    assert not ConversionMark.objects.filter(app=retail, event_id__gt=0).exists()
    assert count_conversions() == 1
    assert set(converted(retail_sale)) == {ada.pk}


def test_the_metrics_page_list_and_csv_show_conversions_and_value(
    sandbox, retail, retail_token, start, bob
):
    ada = phone(retail)
    phone(retail)  # sent, not converted: the rate is one in two
    sale = sent(retail, start, conversion_value_property="revenue")
    bought(retail_token, retail, ada, start + timedelta(minutes=1), revenue=30.25)
    count_conversions()
    metrics_tasks.roll_up()
    browser = logged_in(bob)

    page = browser.get(f"/campaigns/notification/{sale.pk}/metrics/").content.decode()
    listing = browser.get("/campaigns/notification/").content.decode()
    exported = browser.get(f"/campaigns/notification/{sale.pk}/metrics.csv").content.decode()

    assert '<span class="metrics-rate" id="conversion-rate">50.0%</span>' in page
    assert '<span id="conversions">1</span> conversion' in page
    assert '<span id="conversion-value">30.25</span>' in page
    assert '<tr data-outcome="Conversions"><td>Conversions</td><td class="count">1</td>' in page
    assert "1 (50.0%) · 30.25" in listing
    rows = list(csv.reader(io.StringIO(exported)))
    assert ["ios", "en", "converted", "1", "30.2500"] in [row[1:] for row in rows[1:]]


def test_the_push_api_sets_a_goal_and_reads_conversions_in_the_statistics(
    sandbox, retail, retail_token, start
):
    ada = phone(retail)
    body = {
        "notification_content": {"name": "Sale", "title": "Half price"},
        "conversion": {"event": "purchase", "window_minutes": 90, "value_property": "revenue"},
    }
    url = f"/api/v0.1/apps/{retail.organization.name}/{retail.name}/push/notifications"
    created = api(retail_token).post(url, body, format="json")
    assert created.status_code == 202, created.content
    sale = Notification.objects.get(pk=created.json()["notification_id"])
    assert (sale.conversion_event, sale.conversion_window_minutes) == ("purchase", 90)
    delivery.start(sale.pk)
    delivery.send_batch(delivery.claim(sale.pk))
    sale.deliveries.update(sent_at=start)
    bought(retail_token, retail, ada, start + timedelta(minutes=80), revenue=9)
    count_conversions()

    read = api(retail_token).get(f"{url}/{sale.pk}").json()

    assert read["conversion"] == {
        "event": "purchase",
        "window_minutes": 90,
        "starts": "sent",
        "value_property": "revenue",
    }
    statistics = read["statistics"]
    assert (statistics["conversions"], statistics["conversion_rate"]) == (1, 1.0)
    assert statistics["conversion_value"] == 9.0


@pytest.mark.parametrize(
    ("goal", "field", "words"),
    [
        ({"event": "bought it!"}, "conversion.event", "An event name is 1 to 128"),
        ({"event": "purchase", "window_minutes": 0}, "conversion.window_minutes", "1"),
        ({"event": "purchase", "window_minutes": 43201}, "conversion.window_minutes", "43200"),
        ({"event": "purchase", "value_property": "a b"}, "conversion.value_property", "1 to 64"),
        ({"event": "purchase", "starts": "opened"}, "conversion.starts", "opened"),
        ({"window_minutes": 60}, "conversion.event", "required"),
    ],
)
def test_the_push_api_refuses_a_bad_goal_naming_the_field(
    sandbox, retail, retail_token, goal, field, words
):
    body = {"notification_content": {"name": "Sale", "title": "Half price"}, "conversion": goal}
    url = f"/api/v0.1/apps/{retail.organization.name}/{retail.name}/push/notifications"

    response = api(retail_token).post(url, body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == field and words in error["message"]
    assert not Notification.objects.exists()


def test_the_push_api_refuses_a_launch_window_without_launch_tracking(
    sandbox, retail, retail_token
):
    body = {
        "notification_content": {"name": "Sale", "title": "Half price"},
        "track_launches": False,
        "conversion": {"event": "purchase", "starts": "launched"},
    }
    url = f"/api/v0.1/apps/{retail.organization.name}/{retail.name}/push/notifications"

    response = api(retail_token).post(url, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "conversion.starts"
    assert "needs launch tracking" in response.json()["error"]["message"]
    assert not Notification.objects.exists()


def test_a_journey_steps_goal_is_set_on_its_message_and_its_conversions_shown(
    bob, retail, retail_token, start
):
    client = logged_in(bob)
    journey = journey_pages.made(client, retail)
    step = journey_pages.with_step(client, journey)
    url = notification_forms.change_url(step.notification_id)
    form = notification_forms.opened_form(client, url)
    form.update(
        conversion_event="purchase",
        conversion_window_minutes="30",
        conversion_value_property="revenue",
    )
    assert notification_forms.save_draft(client, form, url).status_code == 302
    client.post(f"/journeys/journey/{journey.pk}/activate/")
    ada = phone(retail)
    runner.run()
    Delivery.objects.update(status=DeliveryStatus.SENT, sent_at=start)
    bought(retail_token, retail, ada, start + timedelta(minutes=29), revenue=40)

    count_conversions()
    metrics_tasks.roll_up()

    message = Notification.objects.get(pk=step.notification_id)
    assert (message.conversion_event, message.conversion_window_minutes) == ("purchase", 30)
    html = client.get(journey_pages.page(journey.pk)).content.decode()
    assert '<td class="conversions">1 <span class="help">purchase</span></td>' in html
    assert '<td class="conversion-value">40.00</td>' in html
    assert "<dt>Converted (purchase)</dt><dd>1 · 40.00</dd>" in html


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"conversion_event": "bought it!"}, "conversion_event", "An event name is 1 to 128"),
        (
            {"conversion_event": "purchase", "conversion_window_minutes": "43201"},
            "conversion_window_minutes",
            "(43200 minutes)",
        ),
        (
            {"conversion_event": "purchase", "conversion_value_property": "re venue"},
            "conversion_value_property",
            "1 to 64 letters",
        ),
        ({"conversion_value_property": "revenue"}, "conversion_value_property", "Name the"),
        (
            {"conversion_event": "purchase", "conversion_starts": "launched", "track_launches": ""},
            "conversion_starts",
            "needs launch tracking",
        ),
    ],
)
def test_the_composer_refuses_a_bad_goal_at_its_field(bob, retail, fields, field, words):
    data = notification_forms.form_data(retail, **fields)

    response = notification_forms.save_draft(logged_in(bob), data)

    assert response.status_code == 200
    assert words in " ".join(notification_forms.errors(response)[field])
    assert not Notification.objects.exists()


def test_the_composer_saves_a_goal(bob, retail):
    data = notification_forms.form_data(
        retail,
        conversion_event="purchase",
        conversion_window_minutes="10080",
        conversion_starts="launched",
        conversion_value_property="revenue",
    )

    response = notification_forms.save_draft(logged_in(bob), data)

    assert response.status_code == 302
    saved = Notification.objects.get()
    assert (
        saved.conversion_event,
        saved.conversion_window_minutes,
        saved.conversion_starts,
        saved.conversion_value_property,
    ) == ("purchase", 10080, "launched", "revenue")

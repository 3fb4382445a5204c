"""Metrics: rollups recomputed from deliveries, the pages and CSV that read them.

Sends go to the sandbox gateways over real sockets.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import delivery
from campaigns.models import Delivery, Notification, Status
from devices.registration import register_device
from metrics import charts, rollup, tasks
from metrics.models import DeliveryCount, NotificationSummary, Watermark
from tests.conftest import logged_in, set_sending_rules

pytest_plugins = ["tests.sandbox"]


def device(app, platform: str, token: str, **fields):
    found, _ = register_device(
        app, uuid.uuid4(), {"platform": platform, "push_token": token, **fields}
    )
    return found


@pytest.fixture
def sent(sandbox, retail) -> Notification:
    """A sale sent to four devices: two sent (one in French), one gone, one opted out."""
    set_sending_rules(retail, min_interval_minutes=0)
    device(retail, "ios", "aa" * 32, locale="fr-FR")
    device(retail, "ios", "dead" + "0" * 60)
    device(retail, "android", "android-token-1")
    device(retail, "android", "android-token-2", push_enabled=False)
    sale = Notification.objects.create(
        app=retail,
        name="Sale",
        platforms=["ios", "android"],
        status=Status.SCHEDULED,
        send_at=timezone.now(),
        title_en="Half price",
        languages=["fr"],
        title_fr="Moitié prix",
    )
    delivery.start(sale.pk)
    delivery.send_batch(delivery.claim(sale.pk))
    delivery.finish_if_done(sale.pk)
    Delivery.objects.filter(notification=sale, device__push_token="aa" * 32).update(
        launched_at=timezone.now()
    )
    return sale


def test_the_rollup_counts_each_outcome_and_the_rates(sent):
    summary = rollup.refresh(sent)

    assert (summary.targeted, summary.sent, summary.failed, summary.skipped) == (4, 2, 1, 1)
    assert summary.launches == 1
    assert summary.skipped_reasons == {"Opted out of notifications": 1}
    assert summary.delivery_rate == pytest.approx(2 / 3)
    assert summary.launch_rate == pytest.approx(1 / 2)


def test_the_rollup_splits_by_platform_and_language(sent):
    rollup.refresh(sent)

    by_platform = charts.split(sent, "platform")
    assert by_platform["labels"] == ["Android", "iOS"]
    assert by_platform["series"] == {"Sent": [1, 1], "Failed": [0, 1], "Launches": [0, 1]}
    by_language = charts.split(sent, "language")
    assert by_language["labels"] == ["en", "fr", "—"]
    assert by_language["series"]["Sent"] == [1, 1, 0]


def test_the_charts_draw_conversions_only_for_a_notification_with_a_goal(sent, retail):
    rollup.refresh(sent)
    assert "Conversions" not in charts.timeline(sent)["series"]
    assert "Conversions" not in charts.app_days(retail, timezone.now())["series"]

    Notification.objects.filter(pk=sent.pk).update(conversion_event="purchase")
    sent.refresh_from_db()

    timeline = charts.timeline(sent)
    assert timeline["series"]["Conversions"] == [0] * len(timeline["labels"])
    assert charts.split(sent, "platform")["series"]["Conversions"] == [0, 0]
    assert sum(charts.app_days(retail, timezone.now())["series"]["Conversions"]) == 0


def test_recomputing_replaces_the_rollup_rather_than_adding_to_it(sent):
    rollup.refresh(sent)
    rows = DeliveryCount.objects.filter(notification=sent).count()

    summary = rollup.refresh(sent)

    assert DeliveryCount.objects.filter(notification=sent).count() == rows
    assert summary.sent == 2


def test_the_timeline_counts_sends_deliveries_and_launches_by_minute(sent):
    rollup.refresh(sent)

    timeline = charts.timeline(sent)

    assert timeline["bucket"] == "minute"
    assert sum(timeline["series"]["Sends"]) == 3
    assert sum(timeline["series"]["Deliveries"]) == 2
    assert sum(timeline["series"]["Launches"]) == 1


def test_the_task_rolls_up_what_is_sending_just_ended_or_was_launched(sent, retail):
    old = Notification.objects.create(
        app=retail,
        name="Old",
        status=Status.COMPLETED,
        completed_at=timezone.now() - timedelta(days=2),
    )
    NotificationSummary.objects.create(notification=old, rolled_up_at=timezone.now())

    assert rollup.stale(timezone.now()) == [sent.pk]
    assert tasks.roll_up.apply().get() == 1
    assert NotificationSummary.objects.get(notification=sent).launches == 1

    Delivery.objects.create(
        notification=old, device=sent.deliveries.first().device, launched_at=timezone.now()
    )
    Watermark.objects.update(at=timezone.now() - timedelta(minutes=5))
    assert old.pk in rollup.stale(timezone.now())


def test_the_metrics_page_shows_counts_rates_and_chart_data(sent, bob):
    page = logged_in(bob).get(f"/campaigns/notification/{sent.pk}/metrics/")

    html = page.content.decode()
    assert page.status_code == 200
    assert '<tr data-outcome="Sent"><td>Sent</td><td class="count">2</td>' in html
    assert '<span class="metrics-rate" id="delivery-rate">67%</span>' in html
    assert '<span class="metrics-rate" id="launch-rate">50%</span>' in html
    assert "Opted out of notifications" in html
    assert 'id="metrics-data"' in html and "vendor/chart.js/chart.umd.min.js" in html


def test_the_csv_export_lists_each_minute_platform_language_and_outcome(sent, bob):
    response = logged_in(bob).get(f"/campaigns/notification/{sent.pk}/metrics.csv")

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0] == ["minute_utc", "platform", "language", "outcome", "count", "value"]
    outcomes = sorted((r[1], r[2], r[3], r[4]) for r in rows[1:])
    assert ("ios", "fr", "launched", "1") in outcomes
    assert ("android", "en", "sent", "1") in outcomes
    assert ("ios", "en", "failed", "1") in outcomes


def test_the_metrics_pages_are_named_by_metrics_at_the_paths_they_always_had(sent, retail):
    assert reverse("admin:metrics_notification", args=[sent.pk]) == (
        f"/campaigns/notification/{sent.pk}/metrics/"
    )
    assert reverse("admin:metrics_notification_csv", args=[sent.pk]) == (
        f"/campaigns/notification/{sent.pk}/metrics.csv"
    )
    assert reverse("admin:metrics_app", args=[retail.pk]) == (
        f"/devices/mobileapp/{retail.pk}/metrics/"
    )


def test_a_sent_notification_and_its_app_link_to_their_metrics(sent, bob, retail):
    draft = Notification.objects.create(app=retail, name="Draft")
    client = logged_in(bob)

    notification_page = client.get(f"/campaigns/notification/{sent.pk}/change/").content.decode()
    draft_page = client.get(f"/campaigns/notification/{draft.pk}/change/").content.decode()
    app_page = client.get(f"/devices/mobileapp/{retail.pk}/change/").content.decode()

    assert f'href="/campaigns/notification/{sent.pk}/metrics/"' in notification_page
    assert f"/campaigns/notification/{draft.pk}/metrics/" not in draft_page
    assert f'href="/devices/mobileapp/{retail.pk}/metrics/"' in app_page


def test_another_apps_user_cannot_read_the_metrics(sent, carol, news):
    sent.app = news
    sent.save()
    assert logged_in(carol).get(f"/campaigns/notification/{sent.pk}/metrics/").status_code == 404


def test_the_list_has_views_and_rate_columns(sent, bob, retail):
    rollup.refresh(sent)
    Notification.objects.create(app=retail, name="Later", status=Status.SCHEDULED)

    completed = logged_in(bob).get("/campaigns/notification/?view=completed").content.decode()
    scheduled = logged_in(bob).get("/campaigns/notification/?view=scheduled").content.decode()

    assert "Sale" in completed and "Later" not in completed
    assert "66.7%" in completed and "50.0%" in completed
    assert "Later" in scheduled and ">Sale<" not in scheduled
    assert "In progress" in completed


def test_the_app_overview_charts_the_last_30_days(sent, bob, retail):
    rollup.refresh(sent)

    page = logged_in(bob).get(f"/devices/mobileapp/{retail.pk}/metrics/")

    html = page.content.decode()
    assert page.status_code == 200 and "Sale" in html and "67%" in html
    days = charts.app_days(retail, timezone.now())
    assert len(days["labels"]) == 30
    assert days["series"]["Deliveries"][-1] == 2 and days["series"]["Launches"][-1] == 1

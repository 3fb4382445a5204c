"""A marketer makes an A/B test from a draft, rewrites variant B, splits, starts and reads it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns import delivery
from campaigns.models import Delivery, DeliveryStatus, Notification, Status
from devices.models import Device
from devices.registration import register_device
from experiments import assignment, services
from experiments.models import Experiment
from metrics import rollup
from tests.e2e.conftest import login
from tests.test_experiments import draft

pytest_plugins = ["tests.sandbox"]
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def send_every_arm(experiment: Experiment) -> None:
    """Fan out, send and roll up each arm here, as a worker would."""
    for arm in experiment.arms.all():
        delivery.start(arm.notification_id)
        delivery.send_batch(delivery.claim(arm.notification_id))
        delivery.finish_if_done(arm.notification_id)
        rollup.refresh(Notification.objects.get(pk=arm.notification_id))


def test_a_marketer_tests_two_wordings(page: Page, live_server, sandbox, bob, retail):
    for n in range(6):
        register_device(retail, uuid.uuid4(), {"platform": "ios", "push_token": f"{n:064x}"})
    notification = Notification.objects.create(
        app=retail, name="Sale", platforms=["ios"], title_en="Half price", body_en="Today only."
    )
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/campaigns/notification/{notification.pk}/change/")

    page.click("#ab-test-button")
    expect(page.locator(".experiment-status")).to_contain_text("Draft")
    experiment = Experiment.objects.get()
    page.locator('tr.experiment-variant[data-label="B"]').get_by_text("Edit content").click()
    page.fill("#id_title_en", "50% off")
    page.click("#draft-button")
    expect(page.locator('tr.experiment-variant[data-label="B"]')).to_contain_text("50% off")

    page.fill("input[name=split_A]", "40")
    page.fill("input[name=split_B]", "60")
    page.click("input[name=_continue]")
    expect(page.locator("input[name=split_B]")).to_have_value("60")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click("#start-button")
    expect(page.locator(".messagelist")).to_contain_text("has started")
    assert asked and asked[0].startswith("Start ")

    send_every_arm(experiment)
    page.reload()

    rows = page.locator("#experiment-results tr.experiment-arm")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Variant A")
    expect(rows.nth(1)).to_contain_text("too few to tell")


def test_split_evenly_keeps_what_the_marketer_typed(page: Page, live_server, bob, retail):
    experiment = services.create("Sale wording", draft(retail), None, variants=3)
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/experiments/experiment/{experiment.pk}/change/")
    page.fill("#id_name", "Spring wording")
    page.fill("#id_holdout_percent", "10")
    page.fill("input[name=split_A]", "5")
    page.select_option("#id_winner_metric", "delivery_rate")

    page.click("#split-evenly-button")

    expect(page.locator("#split-evenly-status")).to_contain_text("A 30%, B 30%, C 30%")
    expect(page.locator("#id_name")).to_have_value("Spring wording")
    expect(page.locator("#id_winner_metric")).to_have_value("delivery_rate")
    for label in "ABC":
        expect(page.locator(f"input[name=split_{label}]")).to_have_value("30")
    experiment.refresh_from_db()
    assert experiment.name == "Sale wording"  # nothing is saved until the marketer saves
    page.press("#id_name", "Enter")  # Enter saves, as on any page; it does not split
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    experiment.refresh_from_db()
    assert (experiment.name, experiment.holdout_percent) == ("Spring wording", 10)
    assert [arm.percent for arm in services.variants(experiment)] == [30, 30, 30]


def test_split_evenly_with_a_refused_holdout_names_the_field(page: Page, live_server, bob, retail):
    experiment = services.create("Sale wording", draft(retail), None)
    login(page, live_server, bob)
    page.goto(f"{live_server.url}/experiments/experiment/{experiment.pk}/change/")
    page.fill("#id_name", "Spring wording")
    page.fill("#id_holdout_percent", "60")

    page.click("#split-evenly-button")

    expect(page.locator(".errorlist")).to_contain_text("Holdout: at most 50% of the audience")
    expect(page.locator("#id_name")).to_have_value("Spring wording")
    experiment.refresh_from_db()
    assert experiment.name == "Sale wording"


def test_the_results_say_why_an_arm_sent_nothing(page: Page, live_server, sandbox, bob, retail):
    for n in range(20):
        register_device(retail, uuid.uuid4(), {"platform": "ios", "push_token": f"{n:064x}"})
    notification = Notification.objects.create(
        app=retail, name="Sale", platforms=["ios"], title_en="Half price", body_en="Today only."
    )
    experiment = services.create("Sale wording", notification, None)
    services.start(experiment)
    arm_b = experiment.arms.get(label="B")
    b_devices = list(assignment.in_arm(Device.objects.filter(app=retail), arm_b))
    assert b_devices, "twenty devices, half each: B has some"
    # Variant B's devices got another campaign a minute ago: the 30-minute cap holds them back.
    earlier = Notification.objects.create(
        app=retail, name="Flash sale", platforms=["ios"], title_en="Now", status=Status.COMPLETED
    )
    Delivery.objects.bulk_create(
        Delivery(
            notification=earlier,
            device=device,
            platform="ios",
            status=DeliveryStatus.SENT,
            sent_at=timezone.now() - timedelta(minutes=1),
        )
        for device in b_devices
    )
    send_every_arm(experiment)
    login(page, live_server, bob)

    page.goto(f"{live_server.url}/experiments/experiment/{experiment.pk}/change/")

    capped = "Frequency cap: a notification less than 30 min ago"
    row_b = page.locator('#experiment-results tr.experiment-arm[data-label="B"]')
    expect(row_b.locator(".experiment-unsent")).to_have_text(
        f"Sent to no one: all {len(b_devices)} devices were skipped ({capped})."
    )
    expect(row_b.locator(".experiment-skipped")).to_have_text(
        f"Skipped: {len(b_devices)} — {capped}"
    )
    row_a = page.locator('#experiment-results tr.experiment-arm[data-label="A"]')
    expect(row_a.locator(".experiment-unsent")).to_have_count(0)

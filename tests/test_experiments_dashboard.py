"""The A/B test pages: a marketer makes a test from a draft, splits it, starts or cancels it and
reads each arm's rates; an administrator only reads; nobody sees another organization's."""

from __future__ import annotations

import re

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.utils import timezone

from campaigns.models import Delivery, DeliveryStatus, Notification, Status
from experiments import assignment, services
from experiments.admin import compared
from experiments.models import Experiment, ExperimentStatus
from experiments.results import Rate
from metrics import rollup
from tests.conftest import logged_in
from tests.html_forms import read_form
from tests.notification_forms import change_url
from tests.test_experiments import devices, draft, experiment_of, fan_out_all, launched

LIST = "/experiments/experiment/"


def page(pk: int) -> str:
    return f"/experiments/experiment/{pk}/change/"


def action(pk: int, name: str) -> str:
    return f"/experiments/experiment/{pk}/{name}/"


def ready(app) -> Experiment:
    """A draft test whose two variants have a title and a body each."""
    experiment = services.create("Sale wording", draft(app), None)
    for arm, title in zip(services.variants(experiment), ["Half price", "50% off"], strict=True):
        arm.notification.title_en, arm.notification.body_en = title, "Today only."
        arm.notification.save()
    return experiment


def settings_form(client, experiment: Experiment) -> dict:
    return read_form(client.get(page(experiment.pk)).content.decode(), "experiment_form")


def splits(experiment: Experiment) -> dict[str, int]:
    return {arm.label: arm.percent for arm in services.variants(experiment)}


def test_a_marketer_makes_a_test_from_a_draft_notification(bob, retail):
    client = logged_in(bob)
    notification = draft(retail)
    assert "Make an A/B test" in client.get(change_url(notification.pk)).content.decode()

    response = client.post(f"/experiments/experiment/from/{notification.pk}/")

    experiment = Experiment.objects.get()
    assert response["Location"].endswith(page(experiment.pk))
    assert splits(experiment) == {"A": 50, "B": 50}
    notification.refresh_from_db()
    assert notification.purpose == assignment.PURPOSE
    assert services.control(experiment).notification == notification
    content = client.get(page(experiment.pk)).content.decode()
    assert "Half price today" in content and "Edit content" in content
    assert change_url(services.variants(experiment)[1].notification_id) in content
    assert LogEntry.objects.filter(object_id=str(experiment.pk)).exists()
    arm_page = client.get(change_url(notification.pk)).content.decode()
    assert page(experiment.pk) in arm_page and "Make an A/B test" not in arm_page


def test_the_list_adds_a_test_from_a_picked_draft_and_shows_the_menu(bob, retail):
    client = logged_in(bob)
    notification = draft(retail)
    assert "A/B tests" in client.get("/").content.decode()
    form = client.get(f"{LIST}add/").content.decode()
    assert "Sale" in form

    response = client.post(f"{LIST}add/", {"notification": notification.pk, "name": "Wording"})

    experiment = Experiment.objects.get()
    assert response["Location"].endswith(page(experiment.pk))
    assert experiment.name == "Wording"
    listing = client.get(f"{LIST}?status__exact=draft").content.decode()
    assert "Wording" in listing and "App launch rate" in listing


def test_editing_the_splits_and_settings(bob, retail):
    client = logged_in(bob)
    experiment = ready(retail)
    form = settings_form(client, experiment)
    form.update(holdout_percent="10", split_A="30", split_B="60", name="Wording")

    response = client.post(page(experiment.pk), form)

    assert response.status_code == 302, response.content.decode()[:3000]
    experiment.refresh_from_db()
    assert (experiment.name, experiment.holdout_percent) == ("Wording", 10)
    assert splits(experiment) == {"A": 30, "B": 60}
    assert services.variants(experiment)[1].bucket_from == 3000


def test_a_refused_split_shows_why_and_changes_nothing(bob, retail):
    client = logged_in(bob)
    experiment = ready(retail)
    form = settings_form(client, experiment)
    form.update(split_A="30", split_B="30", name="Renamed")

    response = client.post(page(experiment.pk), form)

    assert response.status_code == 200
    assert "The variants and the holdout take 60%" in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.name == "Sale wording"
    assert splits(experiment) == {"A": 50, "B": 50}


def test_settings_errors_are_shown_at_their_fields(bob, retail):
    client = logged_in(bob)
    experiment = ready(retail)
    form = settings_form(client, experiment)
    form.update(holdout_percent="60", winner_metric="conversion_rate", conversion_event="")

    content = client.post(page(experiment.pk), form).content.decode()

    assert "Holdout: at most 50% of the audience, not 60%." in content
    assert "Conversion event: name it to pick the winner by conversion rate." in content
    experiment.refresh_from_db()
    assert experiment.holdout_percent == 0


def test_add_and_remove_variants_and_split_evenly(bob, retail):
    client = logged_in(bob)
    experiment = ready(retail)

    client.post(action(experiment.pk, "add-variant"))
    assert splits(experiment) == {"A": 34, "B": 33, "C": 33}
    third = services.variants(experiment)[2]
    client.post(f"/experiments/experiment/{experiment.pk}/variants/{third.pk}/remove/")
    assert splits(experiment) == {"A": 50, "B": 50}
    assert not Notification.objects.filter(pk=third.notification_id).exists()

    first = services.variants(experiment)[0]
    response = client.post(
        f"/experiments/experiment/{experiment.pk}/variants/{first.pk}/remove/", follow=True
    )
    assert "Variant A is the test&#x27;s base" in response.content.decode()
    messages = set(
        LogEntry.objects.filter(object_id=str(experiment.pk)).values_list(
            "change_message", flat=True
        )
    )
    assert {"Added variant C; split evenly.", "Removed variant C; split evenly."} <= messages


def test_split_evenly_keeps_what_was_typed(bob, retail):
    client = logged_in(bob)
    experiment = ready(retail)
    client.post(action(experiment.pk, "add-variant"))
    form = settings_form(client, experiment)
    form.update(name="Wording", holdout_percent="10", split_A="5", split_B="5", split_C="5")
    form.update(winner_metric="delivery_rate", _split_evenly="1")

    response = client.post(page(experiment.pk), form, follow=True)

    assert "the variants share what the holdout leaves equally" in response.content.decode()
    experiment.refresh_from_db()
    assert (experiment.name, experiment.holdout_percent) == ("Wording", 10)
    assert experiment.winner_metric == "delivery_rate"
    assert splits(experiment) == {"A": 30, "B": 30, "C": 30}
    assert services.variants(experiment)[1].bucket_from == 3000
    assert LogEntry.objects.filter(
        object_id=str(experiment.pk), change_message__startswith="Split evenly. Changed name"
    ).exists()


def test_split_evenly_refused_names_the_field_and_keeps_what_was_typed(bob, retail):
    client = logged_in(bob)
    experiment = ready(retail)
    form = settings_form(client, experiment)
    form.update(name="Wording", holdout_percent="60", split_A="7", _split_evenly="1")

    content = client.post(page(experiment.pk), form).content.decode()

    assert "Holdout: at most 50% of the audience, not 60%." in content
    typed = read_form(content, "experiment_form")
    assert (typed["name"], typed["holdout_percent"], typed["split_A"]) == ("Wording", "60", "7")
    experiment.refresh_from_db()
    assert experiment.name == "Sale wording"
    assert splits(experiment) == {"A": 50, "B": 50}


def test_a_started_test_is_not_split(bob, retail):
    client = logged_in(bob)
    experiment = ready(retail)
    form = settings_form(client, experiment)
    services.start(experiment)

    response = client.post(page(experiment.pk), {**form, "_split_evenly": "1"}, follow=True)

    assert "its split can no longer change" in response.content.decode()
    assert splits(experiment) == {"A": 50, "B": 50}


def test_a_test_with_a_problem_is_not_started(bob, retail):
    client = logged_in(bob)
    experiment = services.create("Sale wording", draft(retail, title=""), None)

    response = client.post(action(experiment.pk, "start"), follow=True)

    assert "Variant A:" in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.DRAFT


def test_starting_schedules_the_arms_and_cancelling_stops_them(bob, retail):
    client = logged_in(bob)
    experiment = ready(retail)

    response = client.post(action(experiment.pk, "start"), follow=True)

    assert "has started" in response.content.decode()
    assert 'name="_continue"' not in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING
    assert {arm.notification.status for arm in services.variants(experiment)} == {Status.SCHEDULED}
    client.post(action(experiment.pk, "cancel"))
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.CANCELLED
    assert {arm.notification.status for arm in services.variants(experiment)} == {Status.CANCELLED}
    assert set(
        LogEntry.objects.filter(object_id=str(experiment.pk)).values_list(
            "change_message", flat=True
        )
    ) >= {"Started.", "Cancelled."}


def test_the_results_show_each_arms_rates_and_significance(bob, retail):
    devices(retail, 2000)
    experiment = experiment_of(retail, holdout=20, conversion_event="purchase")
    services.start(experiment)
    fan_out_all(experiment)
    arms = {arm.label: arm.notification for arm in experiment.arms.all()}
    launched(arms["A"], 80)
    launched(arms["B"], 240)
    for notification in arms.values():
        rollup.refresh(notification)

    content = logged_in(bob).get(page(experiment.pk)).content.decode()

    assert 'id="experiment-results"' in content
    assert 'Variant B <strong class="experiment-best">' in content
    assert "pts vs A · significant, p &lt; 0.001" in content
    assert "vs the holdout" in content and "Conversion rate" in content
    assert f"/campaigns/notification/{arms['B'].pk}/metrics/" in content
    assert "No winner send" in content


CAPPED = "Frequency cap: a notification less than 30 min ago"
QUIET = "Quiet hours (22:00–08:00)"


def skip(notification, reason: str, count: int | None = None) -> int:
    """Record some of the arm's deliveries (all by default) as skipped for this reason."""
    waiting = Delivery.objects.filter(notification=notification, status=DeliveryStatus.QUEUED)
    ids = list(waiting.values_list("pk", flat=True)[:count])
    return Delivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.SKIPPED, reason=reason)


def test_the_results_show_each_arms_skips_by_reason_and_an_arm_that_sent_nothing(bob, retail):
    devices(retail, 300)
    experiment = experiment_of(retail, holdout=10)
    services.start(experiment)
    fan_out_all(experiment)
    arms = {arm.label: arm.notification for arm in experiment.arms.all()}
    skip(arms["A"], QUIET, 4)
    Delivery.objects.filter(notification=arms["A"], status=DeliveryStatus.QUEUED).update(
        status=DeliveryStatus.SENT
    )
    capped = skip(arms["B"], CAPPED)
    client = logged_in(bob)

    live = client.get(page(experiment.pk)).content.decode()
    for notification in arms.values():
        rollup.refresh(notification)
    rolled_up = client.get(page(experiment.pk)).content.decode()

    for content in (live, rolled_up):
        rows = {row["label"]: row["text"] for row in result_cells(content)}
        assert f"Skipped: 4 — {QUIET}" in rows["A"] and "Sent to no one" not in rows["A"]
        assert f"Sent to no one: all {capped} devices were skipped ({CAPPED})." in rows["B"]
        assert f"Skipped: {capped} — {CAPPED}" in rows["B"]
        assert "Sent to no one" not in rows["Holdout"]
        assert "In the A/B test&#x27;s holdout group" in rows["Holdout"]


def test_an_arm_skipped_for_several_reasons_names_each_most_first(bob, retail):
    devices(retail, 300)
    experiment = experiment_of(retail)
    services.start(experiment)
    fan_out_all(experiment)
    arms = {arm.label: arm.notification for arm in experiment.arms.all()}
    quiet = skip(arms["B"], QUIET, 3)
    capped = skip(arms["B"], CAPPED)
    rollup.refresh(arms["B"])

    content = logged_in(bob).get(page(experiment.pk)).content.decode()

    rows = {row["label"]: row["text"] for row in result_cells(content)}
    total = quiet + capped
    assert f"Sent to no one: all {total} devices were skipped, for the reasons below." in rows["B"]
    assert f"Skipped: {capped} — {CAPPED}; {quiet} — {QUIET}" in rows["B"]
    assert "Sent to no one" not in rows["A"]  # still sending: nothing to say yet


def result_cells(content: str) -> list[dict]:
    """Each results row's arm label and its text, from the page's HTML."""
    rows = re.findall(r'<tr class="experiment-arm" data-label="([^"]+)">(.*?)</tr>', content, re.S)
    return [{"label": label, "text": re.sub(r"<[^>]+>", "", html)} for label, html in rows]


def test_a_comparison_names_the_difference_and_its_p_value():
    reference = Rate(200, 1000)
    assert compared(Rate(250, 1000, 0.0074), reference, "A") == (
        "+5.0 pts vs A · significant, p = 0.0074"
    )
    assert compared(Rate(210, 1000, 0.31), reference, "A") == (
        "+1.0 pts vs A · not significant yet, p = 0.31"
    )
    assert compared(Rate(400, 1000, 1e-9), reference, "A").endswith("p < 0.001")
    assert compared(Rate(2, 10), reference, "A") == "too few to tell"


def test_too_few_devices_say_so(bob, retail):
    devices(retail, 20)
    experiment = ready(retail)
    services.start(experiment)
    fan_out_all(experiment)

    content = logged_in(bob).get(page(experiment.pk)).content.decode()

    assert "too few to tell" in content


def test_the_page_says_when_the_winner_goes_out(bob, retail):
    experiment = ready(retail)
    experiment.winner_after_hours = 4
    experiment.save()
    client = logged_in(bob)
    assert (
        "goes to the rest 4 hours after variant A starts"
        in client.get(page(experiment.pk)).content.decode()
    )
    for arm in services.variants(experiment):
        arm.percent = 40
        arm.save()
    services.start(experiment)
    control = services.control(experiment).notification_id
    Notification.objects.filter(pk=control).update(started_at=timezone.now())

    content = client.get(page(experiment.pk)).content.decode()

    assert "The best variant on app launch rate goes to the rest on" in content


def test_an_administrator_reads_but_does_not_change(alice, retail):
    client = logged_in(alice)
    experiment = ready(retail)

    content = client.get(page(experiment.pk)).content.decode()

    assert "Half price" in content and "Start test" not in content
    assert 'name="split_A"' not in content
    assert client.post(action(experiment.pk, "start")).status_code == 403
    assert client.post(f"/experiments/experiment/from/{draft(retail).pk}/").status_code == 403
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.DRAFT


def test_a_user_sees_only_the_tests_of_the_apps_they_see(carol, retail, news):
    carol.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="experiments", codename__contains="experiment"
        )
    )
    mine, theirs = ready(retail), ready(news)
    client = logged_in(carol)

    assert client.get(page(mine.pk)).status_code == 200
    assert client.get(page(theirs.pk)).status_code == 302
    assert client.post(action(theirs.pk, "start")).status_code == 404
    assert client.post(f"/experiments/experiment/from/{draft(news).pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ExperimentStatus.DRAFT


def test_a_developer_without_the_role_cannot_read_tests(carol, retail):
    assert logged_in(carol).get(page(ready(retail).pk)).status_code == 403

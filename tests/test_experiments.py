"""A/B tests: deterministic arms that take their shares, a holdout, per-arm rates, the winner."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns import delivery
from campaigns.models import Delivery, DeliveryStatus, Notification, Status
from devices.models import Device
from events.models import Event
from experiments import assignment, results, services, tasks
from experiments.models import ArmKind, ExperimentStatus, WinnerMetric
from metrics import rollup


def devices(app, count: int) -> list[int]:
    now = timezone.now()
    Device.objects.bulk_create(
        [
            Device(
                app=app,
                install_id=uuid.uuid4(),
                platform="ios",
                push_token=f"{n:064x}",
                first_seen=now,
                last_seen=now,
            )
            for n in range(count)
        ],
        batch_size=2000,
    )
    return list(Device.objects.filter(app=app).values_list("pk", flat=True))


def draft(app, title: str = "Half price today") -> Notification:
    return Notification.objects.create(
        app=app, name="Sale", platforms=["ios", "android"], title_en=title
    )


def experiment_of(app, variants: int = 2, holdout: int = 0, **fields):
    experiment = services.create("Sale wording", draft(app), None, variants=variants)
    experiment.holdout_percent = holdout
    for name, value in fields.items():
        setattr(experiment, name, value)
    experiment.save()
    services.split_evenly(experiment)
    return experiment


def fan_out_all(experiment, again: bool = False) -> dict[str, set[int]]:
    """Start every scheduled arm here (or fan it out again) and return each arm's devices."""
    members = {}
    for arm in experiment.arms.select_related("notification"):
        if again:
            delivery.fan_out(arm.notification)
        else:
            delivery.start(arm.notification_id)
        members[arm.label] = set(
            Delivery.objects.filter(notification=arm.notification).values_list(
                "device_id", flat=True
            )
        )
    return members


def test_the_arms_take_their_shares_of_ten_thousand_devices(retail):
    everyone = devices(retail, 10_000)
    experiment = experiment_of(retail, variants=3, holdout=10)
    services.start(experiment)

    members = fan_out_all(experiment)

    assert set(members) == {"A", "B", "C", "Holdout"}
    shares = {label: len(ids) / len(everyone) for label, ids in members.items()}
    assert shares["Holdout"] == pytest.approx(0.10, abs=0.015)
    for label in "ABC":
        assert shares[label] == pytest.approx(0.30, abs=0.015)
    assert sum(len(ids) for ids in members.values()) == len(everyone)
    assert set().union(*members.values()) == set(everyone)


def test_a_device_keeps_its_arm_across_sends_and_new_devices(retail):
    devices(retail, 500)
    experiment = experiment_of(retail, variants=2, winner_after_hours=1)
    for arm in services.variants(experiment):
        arm.percent = 40
        arm.save()
    services.start(experiment)
    first = fan_out_all(experiment)

    Delivery.objects.all().delete()
    devices(retail, 300)
    again = fan_out_all(experiment, again=True)

    for label in "AB":
        assert first[label] <= again[label]
    seed = experiment.seed
    for label in "AB":
        arm = experiment.arms.get(label=label)
        assert all(
            arm.bucket_from <= assignment.bucket_of(seed, d) < arm.bucket_to for d in again[label]
        )


def test_the_holdout_is_recorded_and_sent_nothing(retail):
    devices(retail, 200)
    experiment = experiment_of(retail, variants=2, holdout=20)
    services.start(experiment)

    members = fan_out_all(experiment)

    holdout = experiment.arms.get(kind=ArmKind.HOLDOUT).notification
    held = Delivery.objects.filter(notification=holdout)
    assert held.count() == len(members["Holdout"]) > 0
    assert set(held.values_list("status", "reason").distinct()) == {
        (DeliveryStatus.SKIPPED, assignment.HOLDOUT_REASON)
    }


def test_starting_gives_every_variant_the_audience_and_schedule_of_a(retail):
    experiment = experiment_of(retail)
    base = services.control(experiment).notification
    base.target_kind, base.user_ids, base.category = "user_ids", ["u1", "u2"], "offers"
    base.save()

    services.start(experiment)

    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING
    for arm in services.variants(experiment):
        arm.notification.refresh_from_db()
        assert arm.notification.status == Status.SCHEDULED
        assert arm.notification.purpose == assignment.PURPOSE
        assert (arm.notification.user_ids, arm.notification.category) == (["u1", "u2"], "offers")


@pytest.mark.parametrize(
    ("holdout", "winner_after_hours", "splits", "problem"),
    [
        (0, None, {"A": 50, "B": 40}, "take 90%: make it 100%"),
        (10, 2, {"A": 45, "B": 45}, "leave some of the audience for the winner"),
        (0, None, {"A": 100, "B": 0}, "at least 1%"),
        (60, None, {"A": 20, "B": 20}, "at most 50%"),
    ],
)
def test_a_split_that_does_not_add_up_is_refused_and_nothing_starts(
    retail, holdout, winner_after_hours, splits, problem
):
    experiment = experiment_of(retail, holdout=holdout, winner_after_hours=winner_after_hours)
    for arm in services.variants(experiment):
        arm.percent = splits[arm.label]
        arm.save()

    with pytest.raises(ValidationError) as refused:
        services.start(experiment)

    assert any(problem in message for message in refused.value.messages)
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.DRAFT
    assert not Notification.objects.filter(status=Status.SCHEDULED).exists()


def test_a_variant_without_text_is_named_when_starting(retail):
    experiment = experiment_of(retail)
    variant_b = services.variants(experiment)[1].notification
    variant_b.title_en = ""
    variant_b.save()

    assert any(p.startswith("Variant B: Write a title") for p in services.problems(experiment))


def test_variants_are_two_to_five(retail):
    experiment = experiment_of(retail, variants=5)
    with pytest.raises(ValidationError, match="at most 5"):
        services.add_variant(experiment, None)
    for arm in services.variants(experiment)[2:]:
        services.remove_variant(arm)
    with pytest.raises(ValidationError, match="at least two"):
        services.remove_variant(services.variants(experiment)[1])


def test_the_p_value_of_a_known_difference():
    p = results.p_value(results.Rate(200, 1000), results.Rate(250, 1000))
    assert p == pytest.approx(0.00743, abs=0.0002)
    assert results.p_value(results.Rate(2, 10), results.Rate(5, 10)) is None


def launched(notification, count: int) -> None:
    sent = Delivery.objects.filter(notification=notification)
    sent.update(status=DeliveryStatus.SENT, sent_at=timezone.now())
    ids = list(sent.values_list("pk", flat=True)[:count])
    Delivery.objects.filter(pk__in=ids).update(launched_at=timezone.now())


def test_rates_per_arm_with_significance_and_conversions_against_the_holdout(retail):
    devices(retail, 2000)
    experiment = experiment_of(retail, holdout=20, conversion_event="purchase")
    services.start(experiment)
    members = fan_out_all(experiment)
    arms = {arm.label: arm.notification for arm in experiment.arms.all()}
    launched(arms["A"], 80)
    launched(arms["B"], 240)
    for device_id in list(members["B"])[:100] + list(members["Holdout"])[:10]:
        Event.objects.create(
            app=retail, device_id=device_id, name="purchase", occurred_at=timezone.now()
        )
    for notification in arms.values():
        rollup.refresh(notification)

    found = {r.arm.label: r for r in results.results(experiment)}

    launch_b = found["B"].rates[WinnerMetric.LAUNCH_RATE]
    assert (launch_b.successes, launch_b.trials) == (240, len(members["B"]))
    assert launch_b.significant
    assert found["A"].rates[WinnerMetric.LAUNCH_RATE].p_value is None
    conversion_b = found["B"].rates[WinnerMetric.CONVERSION_RATE]
    assert conversion_b.successes == 100 and conversion_b.significant
    assert found["Holdout"].rates[WinnerMetric.CONVERSION_RATE].successes == 10
    assert results.best_variant(experiment).label == "B"


def test_the_winner_goes_to_the_rest_once_its_time_has_come(retail):
    devices(retail, 1000)
    experiment = experiment_of(retail, winner_after_hours=2)
    for arm in services.variants(experiment):
        arm.percent = 20
        arm.save()
    services.start(experiment)
    members = fan_out_all(experiment)
    arms = {arm.label: arm.notification for arm in experiment.arms.all()}
    launched(arms["B"], 50)
    for notification in arms.values():
        rollup.refresh(notification)

    tasks.decide()
    assert not experiment.arms.filter(kind=ArmKind.WINNER).exists()

    Notification.objects.filter(pk__in=[n.pk for n in arms.values()]).update(
        started_at=timezone.now() - timezone.timedelta(hours=3)
    )
    tasks.decide()
    tasks.decide()

    winner = experiment.arms.get(kind=ArmKind.WINNER)
    assert winner.label == "Winner (B)"
    assert winner.notification.title_en == arms["B"].title_en
    assert winner.notification.status == Status.SCHEDULED
    delivery.start(winner.notification_id)
    rest = set(
        Delivery.objects.filter(notification=winner.notification).values_list(
            "device_id", flat=True
        )
    )
    assert not rest & (members["A"] | members["B"])
    assert len(rest) + len(members["A"]) + len(members["B"]) == 1000
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.DECIDED
    assert Counter(a.kind for a in experiment.arms.all())[ArmKind.WINNER] == 1


def test_deleting_a_test_deletes_its_arms_notifications(retail):
    devices(retail, 10)
    experiment = experiment_of(retail, holdout=10)
    services.start(experiment)
    fan_out_all(experiment)

    services.delete(experiment)

    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()

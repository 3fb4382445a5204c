"""Campaigns' extension points: the apps built on campaigns register their purposes and audience
rules with it, and key the deliveries they trigger, so campaigns never names them."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from campaigns import audience, delivery, extensions
from campaigns.models import Delivery, Notification
from devices.models import Device, MobileApp
from experiments import assignment
from experiments import services as experiments
from journeys import services as journeys
from journeys.models import Enrollment, EnrollmentStatus, Journey, Trigger
from tests.conftest import logged_in
from tests.test_experiments import devices, experiment_of

BEFORE_THE_KEY_WAS_RENAMED = ("campaigns", "0009_last_error")


def describe_nothing(notification: Notification) -> extensions.PartOf:
    return extensions.PartOf(what="", url="", note="")


@pytest.mark.parametrize("value", ["campaign", assignment.PURPOSE, journeys.PURPOSE])
def test_a_purpose_has_one_owner(value):
    with pytest.raises(ValueError, match="registered already"):
        extensions.register_purpose(value, "Another", describe_nothing)


def test_a_purpose_must_fit_its_column():
    with pytest.raises(ValueError, match="at most 10 characters"):
        extensions.register_purpose("newsletters", "Newsletter", describe_nothing)


def test_a_notification_may_have_campaigns_purpose_or_a_registered_one():
    field = Notification._meta.get_field("purpose")

    assert list(field.choices) == [
        ("campaign", "Campaign"),
        ("experiment", "A/B test arm"),
        ("journey", "Journey step"),
    ]


def test_a_stored_notification_of_an_unregistered_purpose_says_so_on_its_page(retail, root):
    # Its app removed from the project: the row stays, nothing sends it.
    notification = Notification.objects.create(app=retail, name="Retired", purpose="retired")

    page = logged_in(root).get(f"/campaigns/notification/{notification.pk}/change/")

    content = page.content.decode()
    assert page.status_code == 200
    assert "a notification of the purpose &#x27;retired&#x27;" in content
    assert "No installed app sends notifications of this purpose" in content
    assert 'id="schedule-button"' not in content


def test_an_arm_reaches_only_its_share_through_the_filter_its_app_registered(retail):
    everyone = devices(retail, 400)
    experiment = experiment_of(retail)
    arm = experiments.variants(experiment)[1]

    reached = set(audience.audience(arm.notification).values_list("pk", flat=True))

    share = {
        device
        for device in everyone
        if arm.bucket_from <= assignment.bucket_of(experiment.seed, device) < arm.bucket_to
    }
    assert reached == share
    assert 0 < len(reached) < len(everyone)


def test_a_campaign_is_narrowed_by_no_registered_filter(retail):
    everyone = devices(retail, 50)
    experiment_of(retail)
    campaign = Notification.objects.create(app=retail, name="Everyone", platforms=["ios"])

    assert set(audience.audience(campaign).values_list("pk", flat=True)) == set(everyone)


def ios_device(app: MobileApp) -> Device:
    now = timezone.now()
    return Device.objects.create(
        app=app,
        install_id=uuid.uuid4(),
        platform="ios",
        push_token="ab" * 32,
        first_seen=now,
        last_seen=now,
    )


def test_each_occurrence_of_a_trigger_gets_the_notification_once_with_its_properties(retail):
    now = timezone.now()
    device = ios_device(retail)
    journey = Journey.objects.create(
        app=retail, name="On sale", trigger=Trigger.EVENT, event_name="sale"
    )
    message = journeys.add_step(journey).notification
    earlier = Enrollment.objects.create(
        journey=journey,
        device=device,
        status=EnrollmentStatus.COMPLETED,
        properties={"product": "shoes"},
        created_at=now,
    )
    later = Enrollment.objects.create(
        journey=journey, device=device, properties={"product": "hats"}, created_at=now
    )
    occurrences = Enrollment.objects.filter(journey=journey)

    assert delivery.insert_triggered(message, occurrences) == 2
    assert delivery.insert_triggered(message, occurrences) == 0
    assert set(Delivery.objects.values_list("trigger_key", "device_id")) == {
        (earlier.pk, device.pk),
        (later.pk, device.pk),
    }
    by_key = dict(Delivery.objects.values_list("trigger_key", "properties"))
    assert by_key == {earlier.pk: {"product": "shoes"}, later.pk: {"product": "hats"}}
    # A one-off send of the same notification is one more delivery, under its own constraint.
    assert delivery.fan_out(message) == 1
    assert delivery.fan_out(message) == 0


@pytest.mark.django_db(transaction=True)
def test_upgrading_keeps_each_deliverys_key_under_its_new_name(retail):
    device = ios_device(retail)
    notification = Notification.objects.create(app=retail, name="Step", platforms=["ios"])
    Delivery.objects.create(notification=notification, device=device)
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE_THE_KEY_WAS_RENAMED])
    with connection.cursor() as cursor:
        # What a journey step's delivery held before: the enrollment's id.
        cursor.execute("UPDATE campaigns_delivery SET enrollment_id = 42")

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert list(Delivery.objects.values_list("trigger_key", flat=True)) == [42]
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, "campaigns_delivery")
        constraints = connection.introspection.get_constraints(cursor, "campaigns_delivery")
    assert "enrollment_id" not in {column.name for column in columns}
    keyed = {name: c["columns"] for name, c in constraints.items() if "trigger_key" in c["columns"]}
    assert keyed == {"one_delivery_per_trigger": ["trigger_key", "notification_id"]}

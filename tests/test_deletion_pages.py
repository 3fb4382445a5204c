"""Delete confirmation pages count what goes with an object, and keep Django's refusals."""

from __future__ import annotations

import uuid

from django.utils import timezone

from campaigns.models import Delivery, Notification
from devices.models import Device, MobileApp
from devices.registration import register_device
from journeys import enrollment, services
from journeys.models import Journey, Trigger
from tests.conftest import logged_in


def devices(app, count: int) -> list:
    return [
        register_device(app, uuid.uuid4(), {"platform": "ios", "push_token": f"{i:064x}"})[0]
        for i in range(count)
    ]


def test_a_notifications_page_counts_its_deliveries_rather_than_listing_them(bob, retail):
    notification = Notification.objects.create(app=retail, name="Spring sale")
    Delivery.objects.bulk_create(
        Delivery(notification=notification, device=device, platform="ios")
        for device in devices(retail, 3)
    )
    client = logged_in(bob)
    url = f"/campaigns/notification/{notification.pk}/delete/"

    page = client.get(url).content.decode()
    response = client.post(url, {"post": "yes"})

    assert "<li>Deliveries: 3</li>" in page
    assert "<li>Notifications: 1</li>" in page
    assert "Spring sale" in page
    assert "Delivery object" not in page
    assert response.status_code == 302
    assert not Delivery.objects.exists()


def test_a_journeys_page_counts_its_steps_messages_and_who_went_through_it(bob, retail):
    journey = Journey.objects.create(
        app=retail, name="Welcome", trigger=Trigger.EVENT, event_name="signed_up"
    )
    step = services.add_step(journey)
    device = devices(retail, 1)[0]
    enrollment.enroll(journey, Device.objects.filter(pk=device.pk), timezone.now())

    page = logged_in(bob).get(f"/journeys/journey/{journey.pk}/delete/").content.decode()

    assert "<li>Notifications: 1</li>" in page
    assert "<li>Enrollments: 1</li>" in page
    assert "<li>Steps: 1</li>" in page
    assert Notification.objects.filter(pk=step.notification_id).exists()


def test_an_organization_with_apps_is_protected_by_them(root, retail):
    page = logged_in(root).get(f"/devices/organization/{retail.organization_id}/delete/")

    assert "Mobile app: contoso/retail" in page.content.decode()
    assert "protected related objects" in page.content.decode()


def test_deleting_what_the_role_may_not_delete_is_refused(alice, retail):
    devices(retail, 1)
    url = f"/devices/mobileapp/{retail.pk}/delete/"
    client = logged_in(alice)

    page = client.get(url).content.decode()
    response = client.post(url, {"post": "yes"})

    assert "permission to delete the following types of objects" in page
    assert "<li>device</li>" in page
    assert response.status_code == 403
    assert MobileApp.objects.filter(pk=retail.pk).exists()

"""The main dashboard pages of each role, with the objects they show, for page-wide checks.

The accessibility and layout tests visit the same pages: what each persona opens every day,
filled with enough content (a sent notification, a segment, a journey, an A/B test) that the
wide tables and charts are on them.
"""

from __future__ import annotations

import uuid

from django.utils import timezone

from campaigns import delivery
from campaigns.models import Notification, Status
from devices.registration import register_device
from devices.services import issue_api_token
from experiments import services as experiments
from journeys import services as journeys
from journeys.models import Journey, Trigger
from metrics import rollup
from segments.models import Segment
from tests.conftest import set_sending_rules


def marketer_pages(retail) -> list[str]:
    """The paths a marketer opens, after making what they show."""
    sent = sent_notification(retail)
    # With a goal, the notifications list shows its widest set of columns.
    Notification.objects.filter(pk=sent.pk).update(conversion_event="purchase")
    segment = Segment.objects.create(
        app=retail, name="US users", definition="carrierCountry eq 'US'"
    )
    journey = Journey.objects.create(app=retail, name="Welcome", trigger=Trigger.EVENT)
    journeys.add_step(journey)
    draft = Notification.objects.create(app=retail, name="Draft", platforms=["ios"])
    experiment = experiments.create("Wording", draft, None)
    return [
        "/",
        "/campaigns/notification/",
        f"/campaigns/notification/add/?app={retail.pk}&template=standard",
        f"/campaigns/notification/{sent.pk}/change/",
        "/segments/segment/",
        f"/segments/segment/{segment.pk}/change/",
        f"/campaigns/notification/{sent.pk}/metrics/",
        "/journeys/journey/",
        f"/journeys/journey/{journey.pk}/change/",
        "/experiments/experiment/",
        f"/experiments/experiment/{experiment.pk}/change/",
    ]


def app_administrator_pages(retail) -> list[str]:
    """The paths an app administrator opens."""
    issue_api_token(retail, "Retail backend")
    return [
        "/",
        "/devices/mobileapp/",
        f"/devices/mobileapp/{retail.pk}/change/",
        "/devices/apitoken/",
    ]


def developer_pages(retail) -> list[str]:
    """The paths a developer opens: the overview and her app's API tokens."""
    token, _ = issue_api_token(retail, "Retail backend")
    return [
        "/",
        "/devices/apitoken/",
        f"/devices/apitoken/{token.pk}/change/",
        "/devices/apitoken/add/",
    ]


def sent_notification(app) -> Notification:
    """A notification sent to three iOS devices, with its metrics rolled up."""
    set_sending_rules(app, min_interval_minutes=0)
    for n in range(3):
        registration = {
            "platform": "ios",
            "push_token": f"{n}" * 64,
            "properties": {"carrierCountry": "US"},
        }
        register_device(app, uuid.UUID(int=n + 1), registration)
    sale = Notification.objects.create(
        app=app,
        name="Sale",
        platforms=["ios"],
        status=Status.SCHEDULED,
        send_at=timezone.now(),
        title_en="Half price",
        body_en="Today only.",
    )
    delivery.start(sale.pk)
    delivery.send_batch(delivery.claim(sale.pk))
    delivery.finish_if_done(sale.pk)
    rollup.refresh(sale)
    return sale

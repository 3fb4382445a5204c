"""Another organization's app with one of everything the dashboard shows, for cross-app tests.

Every name it gives contains MARKER, so a page that shows any of it is caught by a search; and
`fingerprint` reads all of it back, so a refused request that changed it anyway is caught too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from campaigns.models import Notification
from devices import sample_credentials
from devices.models import ApiToken, ApnsCredential, Device, MobileApp, Organization
from devices.services import issue_api_token
from events.models import Event
from experiments import services as experiment_services
from experiments.models import Arm, Experiment
from journeys import services as journey_services
from journeys.models import Journey, Step, Trigger
from pushcenter import roles
from segments.models import Segment
from tests.conftest import make_user
from webhooks import services as webhook_services
from webhooks.models import Batch, BatchStatus, Endpoint

MARKER = "Zeta"


@dataclass
class Tenant:
    """Organization fabrikam, its app zeta, a marketer of it, and one of each of its objects."""

    organization: Organization
    app: MobileApp
    person: User
    device: Device
    token: ApiToken
    segment: Segment
    notification: Notification
    experiment: Experiment
    arm: Arm
    journey: Journey
    step: Step
    event: Event
    webhook_endpoint: Endpoint
    webhook_batch: Batch

    def objects(self) -> list[models.Model]:
        return [getattr(self, name) for name in self.__dataclass_fields__]


def make_tenant() -> Tenant:
    """Build fabrikam/zeta with a credential, a device, a token, a segment, a draft, an A/B test,
    a journey, an event, and an entry in its marketer's recent actions."""
    organization = Organization.objects.create(name="fabrikam", display_name=f"{MARKER} Org")
    app = MobileApp.objects.create(
        organization=organization, name="zeta", display_name=f"{MARKER} App"
    )
    apns = ApnsCredential(
        app=app, key_id="ZETA123456", team_id="ZETATEAM12", bundle_id="com.fabrikam.zeta"
    )
    apns.store_secret({"signing_key": sample_credentials.p8_signing_key().decode()})
    apns.save()
    person = make_user("zeta-marketer", roles.MARKETER, first_name=MARKER)
    organization.members.add(person)
    now = timezone.now()
    device = Device.objects.create(
        app=app,
        install_id=uuid.uuid4(),
        platform="ios",
        push_token="ab" * 32,
        user_id=f"{MARKER}-person",
        first_seen=now,
        last_seen=now,
    )
    notification = _draft(app, f"{MARKER} sale")
    experiment = experiment_services.create(f"{MARKER} test", _draft(app, f"{MARKER} A"), None)
    journey = Journey.objects.create(
        app=app, name=f"{MARKER} welcome", trigger=Trigger.FIRST_REGISTRATION
    )
    endpoint, _ = webhook_services.create_endpoint(
        app, "https://93.184.215.14/zeta", ["sent"], description=f"{MARKER} CRM"
    )
    tenant = Tenant(
        organization=organization,
        app=app,
        person=person,
        device=device,
        token=issue_api_token(app, f"{MARKER} backend")[0],
        segment=Segment.objects.create(
            app=app, name=f"{MARKER} fans", definition="carrierCountry eq 'US'"
        ),
        notification=notification,
        experiment=experiment,
        arm=experiment_services.variants(experiment)[-1],
        journey=journey,
        step=journey_services.add_step(journey),
        event=Event.objects.create(
            app=app, device=device, name=f"{MARKER}_purchase", occurred_at=now
        ),
        webhook_endpoint=endpoint,
        webhook_batch=Batch.objects.create(
            endpoint=endpoint,
            body=f'{{"events": [{{"id": "{MARKER}"}}]}}',
            event_count=1,
            status=BatchStatus.DEAD,
            last_error=f"{MARKER} refused it",
            finished_at=now,
        ),
    )
    LogEntry.objects.create(
        user=person,
        content_type=ContentType.objects.get_for_model(Notification),
        object_id=str(notification.pk),
        object_repr=str(notification),
        action_flag=CHANGE,
        change_message=f"{MARKER} changed the title.",
    )
    return tenant


def _draft(app: MobileApp, name: str) -> Notification:
    return Notification.objects.create(
        app=app, name=name, platforms=["ios"], title_en=f"{name} title", body_en="Today only."
    )


def fingerprint(tenant: Tenant) -> dict[str, object]:
    """Everything of the tenant as stored: each object's row, and the rows around them."""
    app = tenant.app
    found: dict[str, object] = {
        f"{type(obj).__name__} {obj.pk}": list(type(obj)._base_manager.filter(pk=obj.pk).values())
        for obj in tenant.objects()
    }
    found.update(
        notifications=list(Notification.objects.filter(app=app).values()),
        segments=Segment.objects.filter(app=app).count(),
        tokens=list(ApiToken.objects.filter(app=app).values("pk", "revoked_at")),
        arms=list(Arm.objects.filter(experiment__app=app).values()),
        steps=list(Step.objects.filter(journey__app=app).values()),
        app_members=list(app.members.values_list("pk", flat=True)),
        organization_members=list(tenant.organization.members.values_list("pk", flat=True)),
        person_groups=list(tenant.person.groups.values_list("pk", flat=True)),
        log_entries=LogEntry.objects.count(),
        users=User.objects.count(),
    )
    return found

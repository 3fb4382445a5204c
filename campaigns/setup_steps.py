"""The steps of an app's setup checklist that notifications know: the first one sent, and
launches reported from them. Added to devices' checklist from CampaignsConfig.ready()."""

from __future__ import annotations

from django.urls import reverse

from campaigns.models import Delivery
from devices.models import MobileApp
from devices.setup_status import Step, app_page, when


def steps(app: MobileApp) -> list[Step]:
    """The first notification a provider accepted, and the first launch reported from one."""
    deliveries = Delivery.objects.filter(notification__app=app)
    # By id: the oldest sent delivery is found without reading the app's every delivery.
    sent = deliveries.filter(sent_at__isnull=False).order_by("pk").values_list("sent_at").first()
    launched = (
        deliveries.filter(launched_at__isnull=False)
        .order_by("launched_at")
        .values_list("launched_at")
        .first()
    )
    compose = f"{reverse('admin:campaigns_notification_add')}?app={app.pk}"
    return [
        Step(
            "notification",
            "The first notification sent",
            sent is not None,
            f"A provider accepted one on {when(sent[0])}." if sent else "None sent yet.",
            todo="Send a notification to the registered devices.",
            link=("New notification", compose),
        ),
        Step(
            "launches",
            "Launches reported",
            launched is not None,
            f"First launch reported on {when(launched[0])}." if launched else "None reported yet.",
            todo="When a tap on a notification opens the app, post its tracking_id with the "
            "launch snippet below.",
            link=("Snippets", app_page(app, "#setup-snippets")),
        ),
    ]

"""Where the apps built on campaigns plug in, so campaigns never imports them.

An app that sends its notifications through campaigns registers here, in its
AppConfig.ready(), what campaigns must know of it:

- a purpose (register_purpose): the value it stores in Notification.purpose, its label, and a
  describer that names, for the notification's page, what the notification belongs to. A
  notification of a purpose other than "campaign" is sent by its owner, never on its own: it
  cannot be scheduled or cancelled from its page;
- audience filters (register_audience_filter): each narrows the devices a notification
  targets (an A/B test's arm reaches its share only);
- audience skips (register_audience_skip): each may name a reason why every targeted device
  of a notification is left out, recorded on skipped deliveries (an A/B test's holdout).

An app that triggers a notification one person at a time needs no registration: it marks the
notification Status.AUTOMATED, inserts its deliveries with
campaigns.delivery.insert_triggered (one per occurrence of its trigger, keyed by the
occurrence's id), and the sweep sends any automated notification with deliveries to send.

Delivery events (sent, failed, launched, converted, opted_out) are announced through
devices.delivery_events, which webhooks listens to.

The registries are plain: filled once at start-up, read on every send. Registering a purpose
twice is refused, as two owners of one stored value cannot both be right.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import reverse

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from campaigns.models import Notification
    from devices.models import Device

# Campaigns' own purpose: a notification sent on its own. No other app may register it.
CAMPAIGN = "campaign"
# Notification.purpose's width: a registered purpose must fit in it.
PURPOSE_MAX_LENGTH = 10


@dataclass(frozen=True)
class PartOf:
    """What a notification belongs to, for its page: a name, a link, and what that sets."""

    what: str
    url: str
    note: str


Describer = Callable[["Notification"], PartOf]
AudienceFilter = Callable[["Notification", "QuerySet[Device]"], "QuerySet[Device]"]
# Why every targeted device of the notification is left out; "" when they are not.
AudienceSkip = Callable[["Notification"], str]


@dataclass(frozen=True)
class Purpose:
    """A registered purpose: the stored value, its label and its describer."""

    value: str
    label: str
    describe: Describer


_purposes: dict[str, Purpose] = {}
_audience_filters: list[AudienceFilter] = []
_audience_skips: list[AudienceSkip] = []


def register_purpose(value: str, label: str, describe: Describer) -> None:
    """Make `value` a purpose of notifications, owned by the registering app."""
    if value in _purposes or value == CAMPAIGN:
        raise ValueError(f"The purpose {value!r} is registered already.")
    if len(value) > PURPOSE_MAX_LENGTH:
        raise ValueError(f"A purpose is at most {PURPOSE_MAX_LENGTH} characters: {value!r}.")
    _purposes[value] = Purpose(value, label, describe)


def registered_purposes() -> list[tuple[str, str]]:
    """Return the registered purposes as (value, label) choices, in registration order."""
    return [(purpose.value, purpose.label) for purpose in _purposes.values()]


def part_of(notification: Notification) -> PartOf:
    """Describe what a notification of a registered purpose belongs to.

    A purpose no installed app registers (its app removed) is said to be so, linking to the
    notifications of that purpose, rather than failing the page.
    """
    purpose = _purposes.get(notification.purpose)
    if purpose is not None:
        return purpose.describe(notification)
    changelist = reverse("admin:campaigns_notification_changelist")
    return PartOf(
        what=f"a notification of the purpose {notification.purpose!r}",
        url=f"{changelist}?purpose={notification.purpose}",
        note="No installed app sends notifications of this purpose; it is kept as a record.",
    )


def register_audience_filter(narrow: AudienceFilter) -> None:
    """Have every notification's targeted devices pass through `narrow`."""
    _audience_filters.append(narrow)


def narrowed(notification: Notification, devices: QuerySet[Device]) -> QuerySet[Device]:
    """Apply the registered audience filters to a notification's targeted devices."""
    for narrow in _audience_filters:
        devices = narrow(notification, devices)
    return devices


def register_audience_skip(reason_for: AudienceSkip) -> None:
    """Let `reason_for` leave out every targeted device of a notification, with its reason."""
    _audience_skips.append(reason_for)


def whole_audience_skip(notification: Notification) -> str:
    """Return why every targeted device of the notification is left out; "" if none is."""
    for reason_for in _audience_skips:
        reason = reason_for(notification)
        if reason:
            return reason
    return ""

"""The review a marketer confirms before a notification is queued: who gets it, when, and what.

The composer's Send or Schedule opens the review; its Confirm button submits the form with the
review's digest. The notification is queued only when the submitted form is the one reviewed
(the digests agree), so an edit made after the review needs a review of its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db.models import Count
from django.http import QueryDict

from campaigns import audience, local_time, send_rules, services
from campaigns.composition import LANGUAGE_NAMES
from campaigns.content import SHOWS_NOTHING, texts
from campaigns.models import Notification, ScheduleKind, TargetKind, Template
from devices.models import Platform
from segments.models import Segment

CONFIRM_BUTTON = "_confirm"
DIGEST_FIELD = "review_digest"
# What the digest leaves out: the token, the buttons, and the digest itself.
UNREVIEWED = frozenset(
    {"csrfmiddlewaretoken", "notification_id", "_schedule", "_draft", CONFIRM_BUTTON, DIGEST_FIELD}
)
TEXT_LABELS = {"title": "Title", "subtitle": "Subtitle", "body": "Message"}
PLATFORM_NAMES = dict(Platform.choices)


def digest(data: QueryDict) -> str:
    """Return a fingerprint of the submitted form, the same however the browser sent it."""
    pairs = sorted(
        (name, value.replace("\r\n", "\n"))
        for name in data
        if name not in UNREVIEWED
        for value in data.getlist(name)
    )
    return hashlib.sha256(repr(pairs).encode()).hexdigest()


def confirmed(data: QueryDict) -> bool:
    """Tell whether the form was submitted with Confirm from a review of exactly this form."""
    return CONFIRM_BUTTON in data and data.get(DIGEST_FIELD) == digest(data)


def summary(notification: Notification, segments: Iterable[Segment], now: datetime) -> dict:
    """Describe what confirming would queue: the audience, the schedule, the content."""
    reached = audience.audience(notification, segments)
    per_platform = dict(reached.order_by().values_list("platform").annotate(n=Count("id")))
    total = sum(per_platform.values())
    targeted = audience.targeted(notification, segments).count()
    return {
        "target": target_words(notification, segments),
        "total": total,
        "platforms": [(PLATFORM_NAMES[p], per_platform.get(p, 0)) for p in notification.platforms],
        "left_out": targeted - total,
        "held_back": send_rules.held_back(notification, reached, now),
        "kind": notification.get_kind_display(),
        "schedule": schedule_words(notification),
        "expiry": local_time.with_utc(notification.expires_at)
        if notification.expires_at
        else "never",
        "languages": _content(notification),
        "links": _links(notification),
        "action": "send" if notification.schedule_kind == ScheduleKind.NOW else "schedule",
    }


def target_words(notification: Notification, segments: Iterable[Segment]) -> str:
    """Say in words who the notification is for."""
    kind = notification.target_kind
    if kind == TargetKind.EVERYONE:
        return "Everyone: every opted-in device of the chosen platforms"
    if kind == TargetKind.SEGMENTS:
        return "Segments: " + ", ".join(segment.name for segment in segments)
    listed = {
        TargetKind.INSTALL_IDS: (notification.install_ids, "install ID"),
        TargetKind.USER_IDS: (notification.user_ids, "user ID"),
        TargetKind.ACCOUNT_IDS: (notification.account_ids, "account ID"),
    }
    if kind in listed:
        ids, what = listed[kind]
        return f"{len(ids):,} listed {what}{'s' if len(ids) != 1 else ''}"
    return "Devices not on the app's latest version"


def schedule_words(notification: Notification) -> str:
    """Say when it goes out, in UTC (a local-time send in each recipient's zone)."""
    if notification.schedule_kind == ScheduleKind.AT and notification.send_at:
        return f"At {local_time.with_utc(notification.send_at)}"
    if notification.schedule_kind == ScheduleKind.LOCAL and notification.local_send_at:
        first = services.first_local_send(notification.local_send_at)
        return (
            f"At {notification.local_send_at:%Y-%m-%d %H:%M} in each recipient's time zone "
            f"(the first at {local_time.with_utc(first)})"
        )
    return "Now, as soon as you confirm"


def _content(notification: Notification) -> list[dict]:
    if notification.template in SHOWS_NOTHING:
        what = Template(notification.template).label
        return [{"name": what, "texts": {"Custom data": str(notification.custom_data or "")}}]
    return [
        {
            "name": LANGUAGE_NAMES.get(code, code),
            "texts": {TEXT_LABELS[name]: text for name, text in texts(notification, code).items()},
        }
        for code in notification.content_languages()
        if code in dict(settings.LANGUAGES)
    ]


def _links(notification: Notification) -> list[tuple[str, str]]:
    links = [
        ("Image", notification.image_url),
        ("URL", notification.url if notification.on_click != "app" else ""),
        ("iOS URL", notification.ios_url if notification.on_click != "app" else ""),
        ("Android URL", notification.android_url if notification.on_click != "app" else ""),
    ]
    if "windows" in notification.platforms and notification.activation_type == "protocol":
        links.append(("Windows launch", notification.launch))
    return [(label, value) for label, value in links if value]

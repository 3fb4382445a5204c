"""Announce what happened to an app's deliveries and devices, for the apps that pass it on.

The apps that record these moments (campaigns its deliveries' answers and launches, devices a
person's opt-out, the conversion records) call `announce` or `announce_answers`; an app above
them that wants them (webhooks) registers a listener in its AppConfig.ready(). Nothing here
knows who listens: devices and campaigns never import the listeners.

Each recording site asks `wanted(app_id)` first and announces only the kinds someone wants, so
an app nobody listens for pays one lookup, not a write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

SENT = "sent"
FAILED = "failed"
LAUNCHED = "launched"
CONVERTED = "converted"
OPTED_OUT = "opted_out"
KINDS = (SENT, FAILED, LAUNCHED, CONVERTED, OPTED_OUT)
# What a sending batch's answers can announce: read off the deliveries and devices as written.
ANSWER_KINDS = frozenset({SENT, FAILED, OPTED_OUT})


@dataclass(frozen=True)
class DeliveryEvent:
    """One moment to announce.

    `key` makes the event unique among the app's events of its kind (a delivery's id for a
    launch, a conversion's id): announcing it twice passes it on once.
    """

    kind: str
    app_id: int
    key: str
    occurred_at: datetime
    notification_id: int | None = None
    delivery_id: int | None = None
    device_id: int | None = None
    data: dict = field(default_factory=dict)


class Listener(Protocol):
    """What an app that passes events on registers."""

    def wanted(self, app_id: int) -> frozenset[str]:
        """Return the kinds wanted for the app; asked before every announcement, so cheap."""

    def receive(self, events: Sequence[DeliveryEvent]) -> None:
        """Keep these events (of kinds it wants) to pass on."""

    def receive_answers(self, app_id: int, delivery_ids: Sequence[int], since: datetime) -> None:
        """Keep the events of these deliveries' answers, recorded since `since`: one statement."""


_listeners: list[Listener] = []


def register_listener(listener: Listener) -> None:
    """Have `listener` hear every announcement of the kinds it wants."""
    _listeners.append(listener)


def wanted(app_id: int) -> frozenset[str]:
    """Return the kinds some listener wants for the app (empty when none listens)."""
    kinds: frozenset[str] = frozenset()
    for listener in _listeners:
        kinds |= listener.wanted(app_id)
    return kinds


def announce(events: Sequence[DeliveryEvent]) -> None:
    """Pass events to the listeners that want their kinds."""
    for listener in _listeners:
        by_app: dict[int, frozenset[str]] = {}
        kept = []
        for event in events:
            if event.app_id not in by_app:
                by_app[event.app_id] = listener.wanted(event.app_id)
            if event.kind in by_app[event.app_id]:
                kept.append(event)
        if kept:
            listener.receive(kept)


def announce_answers(app_id: int, delivery_ids: Sequence[int], since: datetime) -> None:
    """Announce what a sending batch's answers were: sent, failed, devices gone (opted out)."""
    for listener in _listeners:
        if listener.wanted(app_id) & ANSWER_KINDS:
            listener.receive_answers(app_id, delivery_ids, since)

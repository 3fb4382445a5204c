"""Events: what one device's person did, as the app, a backend or Segment.com reported it.

Journeys record them (journeys/events.py) and start on them; A/B tests count them as
conversions (experiments/results.py); segments select devices by them (did(...) in
segments/language.py). All read this model, so none needs another.
"""

from __future__ import annotations

import re

from django.db import models

from devices.models import Device, MobileApp

# An event's name, as the Events API, Segment.com's calls and conversion goals all take it.
MAX_EVENT_NAME = 128
EVENT_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.:\- ]{0,126}[A-Za-z0-9_.:\-])?")
EVENT_NAME_RULE = (
    f"An event name is 1 to {MAX_EVENT_NAME} letters, digits, '_', '.', '-', ':' or spaces, "
    "starting with a letter or digit and not ending with a space."
)


class EventSource(models.TextChoices):
    API = "api", "Events API"
    # The stored value stays "segment": the events recorded so far hold it.
    SEGMENT_COM = "segment", "Segment.com"


class Event(models.Model):
    """Something one device's person did, as the app, a backend or Segment.com reported it."""

    id = models.BigAutoField(primary_key=True)
    # Neither foreign key has an index of its own: events_app_id and events_device lead with
    # them, and each index more is written again for every event stored.
    app = models.ForeignKey(MobileApp, on_delete=models.CASCADE, related_name="+", db_index=False)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(max_length=128)
    properties = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=8, choices=EventSource.choices, default=EventSource.API)
    occurred_at = models.DateTimeField()

    class Meta:
        # Not journeys' event_name_time and event_device: an upgraded database still has
        # journeys_event with those until journeys/0004 moves its rows here.
        indexes = [
            # device_id rides along so that a segment's did(...) reads the devices of an app's
            # events in a window from the index alone, without visiting the table (README,
            # Segments: the EXPLAIN ANALYZE figures).
            models.Index(
                fields=["app", "name", "occurred_at"],
                include=["device"],
                name="events_name_time_device",
            ),
            models.Index(fields=["device", "name"], name="events_device"),
            # The conversion task reads an app's events in id order from its mark.
            models.Index(fields=["app", "id"], name="events_app_id"),
        ]

    def __str__(self) -> str:
        return self.name

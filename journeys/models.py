"""Journeys: a trigger enrols one device, which then gets the journey's steps, each after a wait.

Events (events/) are what apps, backends and Segment.com report a person did; they start event
journeys. An app's Segment.com source holds the secret Segment.com signs its calls with.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from devices import encryption
from devices.models import Device, MobileApp
from pushcenter.isolation import ErrorMarked
from segments.models import Segment


class Trigger(models.TextChoices):
    FIRST_REGISTRATION = "first_registration", "A device registers for the first time"
    EVENT = "event", "An event is reported"
    SEGMENT_ENTRY = "segment_entry", "A device enters a segment"


class JourneyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class Journey(ErrorMarked):
    """Who enters (the trigger), what they get (the steps) and what ends it early (exits)."""

    app = models.ForeignKey(MobileApp, on_delete=models.CASCADE, related_name="journeys")
    name = models.CharField(max_length=128)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    event_name = models.CharField(
        max_length=128,
        blank=True,
        help_text="For an event trigger: the event's name, such as product_on_sale.",
    )
    segment = models.ForeignKey(
        Segment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journeys",
        help_text="For a segment trigger: a device enters the journey when it enters this segment.",
    )
    exit_events = models.JSONField(
        default=list,
        blank=True,
        help_text="Names of events that end a person's journey at once (at most 5).",
    )
    exit_segment = models.ForeignKey(
        Segment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exiting_journeys",
        help_text="A person whose device leaves this segment leaves the journey at once.",
    )
    status = models.CharField(
        max_length=8, choices=JourneyStatus.choices, default=JourneyStatus.DRAFT, editable=False
    )
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # New devices and segment members are looked for since this time (a trigger's watermark).
    scanned_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class StepKind(models.TextChoices):
    MESSAGE = "message", "Send a message"
    WAIT_FOR_EVENT = "wait_for_event", "Wait for an event"


# A branch target (Step.then_step, Step.else_step): NULL is the next step in order, END ends.
END = 0


class Step(models.Model):
    """One step of a journey: a message sent a wait after the previous step (or entering), or a
    wait of up to `wait` for an event, going on one way if it came and another if not.

    Branches only go forward (to a later position), so every path ends.
    """

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=StepKind.choices, default=StepKind.MESSAGE)
    wait = models.DurationField(
        default=timedelta(0),
        help_text="A message: how long after the previous step (or entering) it sends. "
        "A wait for an event: how long it waits at most (the timeout).",
    )
    notification = models.OneToOneField(
        "campaigns.Notification",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="journey_step",
    )
    event_name = models.CharField(max_length=128, blank=True)
    # A wait: the event counts only if these properties have these values (as text).
    event_conditions = models.JSONField(default=dict, blank=True)
    # A message: where to go once sent; a wait: where to go if the event came.
    then_step = models.PositiveSmallIntegerField(null=True, blank=True)
    # A wait: where to go when it timed out.
    else_step = models.PositiveSmallIntegerField(null=True, blank=True)
    # How many took each way out of a wait, counted as they go.
    event_came = models.PositiveIntegerField(default=0, editable=False)
    timed_out = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["journey", "position"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "position"], name="one_step_per_position")
        ]

    def __str__(self) -> str:
        return f"{self.journey} · step {self.position}"


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", "In the journey"
    COMPLETED = "completed", "Completed"
    # A segment journey's members when it was activated: already in, so they never entered.
    ALREADY_IN = "already_in", "Already in the segment when the journey started"
    EXITED = "exited", "Left early"


class EndReason(models.TextChoices):
    COMPLETED = "completed", "Completed"
    TIMED_OUT = "timed_out", "Ended on a timed-out wait"
    EXIT_EVENT = "exit_event", "Exited on an event"
    LEFT_SEGMENT = "left_segment", "Left the segment"


class Enrollment(models.Model):
    """One device's pass through a journey: the next step and when it is due."""

    id = models.BigAutoField(primary_key=True)
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="enrollments")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=10, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE
    )
    next_position = models.PositiveSmallIntegerField(default=1)
    next_at = models.DateTimeField(null=True, blank=True)
    # The event's properties, for the steps' texts to read as {{ event.name }}.
    properties = models.JSONField(null=True, blank=True)
    # Set when the event a wait step waits for comes; the runner then takes the "then" way.
    event_came_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=12, choices=EndReason.choices, blank=True)
    # The exit event's name, for an exit on an event.
    ended_event = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # A device goes through a journey once at a time (an event journey: again later).
            models.UniqueConstraint(
                fields=["journey", "device"],
                condition=models.Q(status="active"),
                name="one_active_enrollment",
            )
        ]
        indexes = [models.Index(fields=["status", "next_at"], name="enrollment_due")]

    def __str__(self) -> str:
        return f"{self.device_id} in {self.journey}"


class SegmentComSource(models.Model):
    """An app as a Segment.com source: the shared secret its Webhooks destination signs with.

    An app without a row, or with an empty secret, refuses Segment.com's calls.
    """

    app = models.OneToOneField(
        MobileApp, on_delete=models.CASCADE, related_name="segment_com_source"
    )
    # Encrypted (devices/encryption.py); "" when cleared.
    encrypted_secret = models.TextField(blank=True, editable=False)
    secret_set_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "Segment.com source"

    def __str__(self) -> str:
        return f"Segment.com source of app {self.app_id}"

    @classmethod
    def of(cls, app: MobileApp) -> SegmentComSource:
        """Return the app's source: its row, or an unsaved one without a secret."""
        try:
            return app.segment_com_source
        except cls.DoesNotExist:
            return cls(app=app)

    @sensitive_variables("secret")
    def store_secret(self, secret: str) -> None:
        """Encrypt and keep Segment.com's shared secret; an empty one clears it."""
        self.encrypted_secret = encryption.encrypt(secret) if secret else ""
        self.secret_set_at = timezone.now() if secret else None

    def read_secret(self) -> str | None:
        """Decrypt Segment.com's shared secret to check a signature; never show or log it."""
        if not self.encrypted_secret:
            return None
        return encryption.decrypt(self.encrypted_secret)


encryption.ENCRYPTED_COLUMNS.append(
    encryption.EncryptedColumn(SegmentComSource, "encrypted_secret", "Segment shared secret(s)")
)

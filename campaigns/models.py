"""What is sent, and when: notifications with their content per language, target and schedule."""

from __future__ import annotations

import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from modeltranslation.utils import build_localized_fieldname

from campaigns import extensions
from devices.models import MobileApp
from devices.providers import message
from events.models import EVENT_NAME_RE, EVENT_NAME_RULE, MAX_EVENT_NAME
from pushcenter.isolation import ErrorMarked
from segments.models import Segment

# The text fields a marketer writes per language; django-modeltranslation adds one column per
# language to each (title_fr, body_zh_hans, ...), registered in campaigns/translation.py.
TEXT_FIELDS = ("title", "subtitle", "body")


class Template(models.TextChoices):
    STANDARD = "standard", "Standard message (iOS, Android, Windows)"
    TOAST = "toast", "Blank (toast)"
    TILE = "tile", "Blank (tile)"
    RATINGS = "ratings", "Ask for ratings"
    FEEDBACK = "feedback", "Ask for feedback"
    CROSS_PROMOTE = "cross_promote", "Cross-promote"
    SALE = "sale", "Promote a sale"
    UPDATE = "update", "Prompt for update"
    SILENT = "silent", "Silent: data only"
    BADGE = "badge", "Badge only"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"
    # Sent one person at a time, as the app that owns it triggers it (campaigns.extensions).
    AUTOMATED = "automated", "Automated"


# Once a send starts, the notification is a record of what went out.
EDITABLE_STATUSES = (Status.DRAFT, Status.SCHEDULED)


class TargetKind(models.TextChoices):
    EVERYONE = "everyone", "Everyone"
    SEGMENTS = "segments", "Segments"
    INSTALL_IDS = "install_ids", "Install IDs"
    USER_IDS = "user_ids", "User IDs"
    ACCOUNT_IDS = "account_ids", "Account IDs"
    OUTDATED = "outdated", "Devices not on the latest version"


class ScheduleKind(models.TextChoices):
    NOW = "now", "Send immediately"
    AT = "at", "At a date and time"
    LOCAL = "local", "At a local time in each recipient's time zone"


class OnClick(models.TextChoices):
    APP = "app", "Open the app"
    URL = "url", "Open a URL"
    DEEP_LINK = "deep_link", "Open a deep link"


class ActivationType(models.TextChoices):
    FOREGROUND = "foreground", "Foreground"
    BACKGROUND = "background", "Background"
    PROTOCOL = "protocol", "Protocol"


class Duration(models.TextChoices):
    SHORT = "short", "Short"
    LONG = "long", "Long"


class Scenario(models.TextChoices):
    DEFAULT = "default", "Default"
    ALARM = "alarm", "Alarm"
    REMINDER = "reminder", "Reminder"
    INCOMING_CALL = "incomingCall", "Incoming call"


class Purpose(models.TextChoices):
    """Campaigns' own purpose; the apps built on campaigns register theirs (extensions.py)."""

    CAMPAIGN = extensions.CAMPAIGN, "Campaign"


def purpose_choices() -> list[tuple[str, str]]:
    """The purposes a notification may have: campaigns' own, then the registered ones."""
    return [*Purpose.choices, *extensions.registered_purposes()]


class Priority(models.TextChoices):
    HIGH = "high", "High: show at once"
    NORMAL = "normal", "Normal: as the device's battery allows"


class InterruptionLevel(models.TextChoices):
    DEFAULT = "", "Active (the default)"
    PASSIVE = "passive", "Passive: into the list, no sound or light"
    ACTIVE = "active", "Active"
    TIME_SENSITIVE = "time-sensitive", "Time sensitive: through Focus"


BADGE_GLYPH_CHOICES = [("", "A number"), *((glyph, glyph) for glyph in message.BADGE_GLYPHS)]


class Kind(models.TextChoices):
    """Whether a send is held to the app's sending rules (caps, quiet hours) or answers a deed.

    A transactional message (an order shipped, a sign-in code) goes at once, whatever the
    frequency caps and quiet hours, and does not count toward the caps; opt-outs and
    categories still apply to it.
    """

    MARKETING = "marketing", "Marketing"
    TRANSACTIONAL = "transactional", "Transactional"


class ConversionStart(models.TextChoices):
    """What a conversion window is counted from."""

    SENT = "sent", "When it was sent"
    LAUNCHED = "launched", "When it opened the app"


# A conversion window runs from one minute to thirty days.
MIN_CONVERSION_MINUTES = 1
MAX_CONVERSION_MINUTES = 30 * 24 * 60
# A summed property is a key of the event's properties: letters, digits, '_', '-' and '.'.
VALUE_PROPERTY_RE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


def validate_conversion_event(value: str) -> None:
    if value and not EVENT_NAME_RE.fullmatch(value):
        raise ValidationError(EVENT_NAME_RULE)


def validate_value_property(value: str) -> None:
    if value and not VALUE_PROPERTY_RE.fullmatch(value):
        raise ValidationError(
            "A property name is 1 to 64 letters, digits, '_', '-' or '.', such as revenue."
        )


def _all_platforms() -> list[str]:
    return ["ios", "android", "windows"]


class Notification(ErrorMarked):
    """A notification of one app: its content per language, who gets it and when."""

    app = models.ForeignKey(MobileApp, on_delete=models.CASCADE, related_name="notifications")
    name = models.CharField(max_length=128, help_text="For you; customers never see it.")
    template = models.CharField(max_length=20, choices=Template.choices, default=Template.STANDARD)
    platforms = models.JSONField(
        default=_all_platforms, help_text="The platforms whose devices receive it."
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    # A notification of another purpose than "campaign" belongs to the app that registered it,
    # which sends it; it is never sent on its own.
    purpose = models.CharField(
        max_length=extensions.PURPOSE_MAX_LENGTH,
        choices=purpose_choices,
        default=Purpose.CAMPAIGN,
        editable=False,
    )

    kind = models.CharField(
        max_length=13,
        choices=Kind.choices,
        default=Kind.MARKETING,
        help_text="Marketing: held to the app's frequency caps and quiet hours. Transactional "
        "(an order shipped, a security alert): sent at once, past the caps and quiet hours, "
        "and not counted toward the caps. Opt-outs and categories apply to both.",
    )

    # Content. title, subtitle and body are translated (one column per language).
    default_language = models.CharField(
        max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    languages = models.JSONField(
        default=list, blank=True, help_text="Languages added beside the default one."
    )
    machine_translations = models.JSONField(default=dict, blank=True, editable=False)
    overridden_languages = models.JSONField(default=list, blank=True, editable=False)
    # The added languages' texts of the Windows parts, by slot ({"fr": {"action.0.content":
    # ...}}); the default language's are in the structures themselves (campaigns.windows_texts).
    windows_texts = models.JSONField(default=dict, blank=True, editable=False)
    title = models.CharField(max_length=200, blank=True)
    subtitle = models.CharField(max_length=200, blank=True)
    body = models.TextField(max_length=2000, blank=True)
    image_url = models.CharField("Image URL", max_length=2048, blank=True)
    sound = models.CharField(max_length=64, blank=True, help_text="'default' or a sound file.")
    badge = models.PositiveIntegerField(null=True, blank=True)
    badge_glyph = models.CharField(
        "Windows badge glyph",
        max_length=16,
        choices=BADGE_GLYPH_CHOICES,
        blank=True,
        help_text="Windows shows this glyph on the badge instead of the number.",
    )
    priority = models.CharField(max_length=6, choices=Priority.choices, default=Priority.HIGH)
    custom_data = models.JSONField(default=dict, blank=True)
    on_click = models.CharField(max_length=10, choices=OnClick.choices, default=OnClick.APP)
    url = models.CharField("URL", max_length=2048, blank=True)
    ios_url = models.CharField("iOS URL", max_length=2048, blank=True)
    android_url = models.CharField("Android URL", max_length=2048, blank=True)
    track_launches = models.BooleanField("Track app launch rate", default=True)
    # The conversion goal: a device's first such event within the window after its delivery
    # (campaigns.conversions).
    conversion_event = models.CharField(
        max_length=MAX_EVENT_NAME,
        blank=True,
        validators=[validate_conversion_event],
        help_text="The app event that counts as a conversion, such as purchase; empty: none.",
    )
    conversion_window_minutes = models.PositiveIntegerField(
        "Conversion window (minutes)",
        default=24 * 60,
        validators=[
            MinValueValidator(MIN_CONVERSION_MINUTES),
            MaxValueValidator(MAX_CONVERSION_MINUTES),
        ],
        help_text="How long after the start an event still counts: 1 minute to 30 days "
        "(43200 minutes).",
    )
    conversion_starts = models.CharField(
        "Conversion window starts",
        max_length=8,
        choices=ConversionStart.choices,
        default=ConversionStart.SENT,
        help_text="When it was opened: only launched deliveries can convert.",
    )
    conversion_value_property = models.CharField(
        "Conversion value property",
        max_length=64,
        blank=True,
        validators=[validate_value_property],
        help_text="A numeric property of the event to sum, such as revenue; empty: none.",
    )
    collapse_id = models.CharField(
        "Collapse ID",
        max_length=16,
        blank=True,
        help_text="A newer notification with the same ID replaces this one on the device.",
    )
    android_channel = models.CharField(
        "Android channel",
        max_length=100,
        blank=True,
        help_text="The notification channel ID the Android app created; empty: FCM's default.",
    )
    android_click_action = models.CharField(
        "Android click action",
        max_length=100,
        blank=True,
        help_text="The intent action an activity of the app filters on, opened on a tap.",
    )
    category = models.CharField(
        max_length=64,
        blank=True,
        help_text="Only devices that opted into this category receive it.",
    )

    # iOS alert options.
    thread_id = models.CharField(
        "iOS thread ID", max_length=64, blank=True, help_text="iOS groups alerts of one thread."
    )
    ios_category = models.CharField(
        "iOS category",
        max_length=64,
        blank=True,
        help_text="The notification category your iOS app registered: it sets the buttons.",
    )
    interruption_level = models.CharField(
        "iOS interruption level",
        max_length=14,
        choices=InterruptionLevel.choices,
        blank=True,
        default=InterruptionLevel.DEFAULT,
    )
    relevance_score = models.FloatField(
        "iOS relevance score",
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="0 to 1: which alert iOS puts first in the notification summary.",
    )
    android_tag = models.CharField(
        "Android tag",
        max_length=64,
        blank=True,
        help_text="A newer notification with the same tag replaces the one shown.",
    )

    # Windows toast and tile options.
    activation_type = models.CharField(
        max_length=12, choices=ActivationType.choices, default=ActivationType.FOREGROUND
    )
    launch = models.CharField(max_length=2048, blank=True)
    duration = models.CharField(max_length=5, choices=Duration.choices, default=Duration.SHORT)
    scenario = models.CharField(max_length=12, choices=Scenario.choices, default=Scenario.DEFAULT)
    base_uri = models.CharField("Base URI", max_length=2048, blank=True)
    add_image_query = models.BooleanField(default=False)
    windows_image = models.CharField(max_length=2048, blank=True)
    audio = models.CharField(max_length=256, blank=True)
    audio_loop = models.BooleanField(default=False)
    audio_silent = models.BooleanField(default=False)
    inputs = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list, blank=True)
    tile_bindings = models.JSONField(default=list, blank=True)

    # Target and filters.
    target_kind = models.CharField(
        max_length=12, choices=TargetKind.choices, default=TargetKind.EVERYONE
    )
    segments = models.ManyToManyField(Segment, blank=True, related_name="notifications")
    install_ids = models.JSONField(default=list, blank=True)
    user_ids = models.JSONField(default=list, blank=True)
    account_ids = models.JSONField(default=list, blank=True)
    filter_languages = models.JSONField(default=list, blank=True)
    filter_time_zones = models.JSONField(default=list, blank=True)

    # Schedule and expiry.
    schedule_kind = models.CharField(
        max_length=6, choices=ScheduleKind.choices, default=ScheduleKind.NOW
    )
    send_at = models.DateTimeField(null=True, blank=True)
    local_send_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The wall-clock time in each recipient's zone, stored as if it were UTC.",
    )
    expires_at = models.DateTimeField(null=True, blank=True)

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    scheduled_at = models.DateTimeField(null=True, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "send_at"], name="notification_due")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    def content_languages(self) -> list[str]:
        """List the languages it has content in, the default first."""
        return [self.default_language, *(c for c in self.languages if c != self.default_language)]

    def text(self, field: str, language: str) -> str:
        """Return one text field in one language ('' when that language has none)."""
        return getattr(self, build_localized_fieldname(field, language)) or ""

    def set_text(self, field: str, language: str, value: str) -> None:
        setattr(self, build_localized_fieldname(field, language), value)


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    CLAIMED = "claimed", "Claimed"  # by a worker, not yet handed to the provider
    SENDING = "sending", "Sending"  # handed to the provider, its answer not yet recorded
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CHANNEL_EXPIRED = "channel_expired", "Channel expiration failure"
    UNKNOWN = "unknown", "Unknown"
    EXPIRED = "expired", "Expired"
    SKIPPED = "skipped", "Skipped"


# The deliveries a provider answered: what a delivery rate (sent / attempted) divides by.
ATTEMPTED_DELIVERY_STATUSES = (
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.CHANNEL_EXPIRED,
    DeliveryStatus.UNKNOWN,
)


# Statuses a delivery cannot leave.
FINAL_DELIVERY_STATUSES = (
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.CHANNEL_EXPIRED,
    DeliveryStatus.UNKNOWN,
    DeliveryStatus.EXPIRED,
    DeliveryStatus.SKIPPED,
)


class Delivery(models.Model):
    """One notification to one device: at most one per pair, claimed by one worker at a time."""

    id = models.BigAutoField(primary_key=True)
    # No index of its own: delivery_progress leads with it, and every index is written again
    # for each of the three status changes a delivery goes through.
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=10, blank=True)
    # The content language the device got, set when its message is rendered.
    language = models.CharField(max_length=8, blank=True)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    reason = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A queued delivery waits until not_before: its local time, the end of quiet hours, a
    # retry's back-off or a paused provider. A claimed or sending one belongs to its worker
    # until lease_until; then a claimed one may be claimed again, a sending one is unknown.
    not_before = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    # When the provider first answered "later": retries go on until the notification expires
    # or PUSHCENTER_RETRY_WINDOW_HOURS after this, whichever comes first.
    retrying_since = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When the app first reported a launch from this delivery's notification (launch tracking).
    launched_at = models.DateTimeField(null=True, blank=True)
    # The occurrence that asked for this delivery of an automated notification, as the app
    # that triggers it keys its occurrences (campaigns.delivery.insert_triggered); null for a
    # one-off send. A key, not a foreign key: the occurrence may be deleted while its
    # deliveries stay as a record, and the key still keeps each occurrence's deliveries apart.
    trigger_key = models.BigIntegerField(null=True, blank=True)
    # The occurrence's properties, which the text may read as {{ event.name }}.
    properties = models.JSONField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            # A one-off send reaches a device once; an automated one once per occurrence.
            models.UniqueConstraint(
                fields=["notification", "device"],
                condition=models.Q(trigger_key__isnull=True),
                name="one_delivery_per_device",
            ),
            models.UniqueConstraint(
                fields=["trigger_key", "notification"],
                condition=models.Q(trigger_key__isnull=False),
                name="one_delivery_per_trigger",
            ),
        ]
        indexes = [
            models.Index(fields=["notification", "status"], name="delivery_progress"),
            models.Index(
                fields=["notification", "launched_at"],
                name="delivery_launches",
                condition=models.Q(launched_at__isnull=False),
            ),
            models.Index(
                fields=["launched_at"],
                name="delivery_launch_time",
                condition=models.Q(launched_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification} → {self.device_id}"


class DeliveryAttempt(models.Model):
    """A provider's answer to one try that did not settle its delivery (it waits to try again).

    The settling answer is the delivery's own status and reason; these are the tries before it.
    """

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    attempt = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=20)
    status = models.PositiveSmallIntegerField(help_text="The HTTP status; 0 when none came.")
    reason = models.CharField(max_length=300, blank=True)
    answered_at = models.DateTimeField()
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["delivery", "attempt"]
        indexes = [models.Index(fields=["delivery", "attempt"], name="delivery_attempt")]

    def __str__(self) -> str:
        return f"{self.delivery_id} try {self.attempt}"


class Conversion(models.Model):
    """A delivery's conversion: the first goal event of its device's person within the window.

    One per delivery, and one per person and occurrence of a notification: an event reported
    for a user is stored on each of the user's devices, but the user converted once.
    """

    id = models.BigAutoField(primary_key=True)
    delivery = models.OneToOneField(Delivery, on_delete=models.CASCADE, related_name="conversion")
    # No index of its own: one_conversion_per_person leads with it.
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="conversions", db_index=False
    )
    # The device's user id, or "#" and the device's id when it has none.
    person = models.CharField(max_length=260)
    # The delivery's trigger key, 0 for a one-off send: each occurrence converts on its own.
    occurrence = models.BigIntegerField(default=0)
    # The event that converted: not a foreign key, as events may be deleted while this stays.
    event_id = models.BigIntegerField()
    converted_at = models.DateTimeField()
    # The summed property's value; null when the event had none or it was not a number.
    value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "occurrence", "person"], name="one_conversion_per_person"
            )
        ]
        indexes = [models.Index(fields=["recorded_at"], name="conversion_recorded")]

    def __str__(self) -> str:
        return f"{self.delivery_id} converted at {self.converted_at}"


class ConversionMark(models.Model):
    """How far the conversion task has read an app's events, and how far it may read next."""

    app = models.OneToOneField(
        MobileApp, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # The last event id read.
    event_id = models.BigIntegerField(default=0)
    # The newest event id of any app when the task last ran: the next run reads up to it.
    settled_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.app_id}: {self.event_id}"


class IdempotencyKey(models.Model):
    """A Push API client's Idempotency-Key: a retried POST answers the notification it created."""

    app = models.ForeignKey(MobileApp, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    body_hash = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app", "key"], name="one_idempotency_key_per_app")
        ]

    def __str__(self) -> str:
        return self.key


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError("Use an IANA time zone such as Europe/Paris.")


class QuietHoursAction(models.TextChoices):
    DEFER = "defer", "Send when they end"
    SKIP = "skip", "Skip the device"


class SendingRules(models.Model):
    """What an app's devices put up with: frequency caps, quiet hours and the default zone.

    An app without a row follows the defaults below (`SendingRules.of`); the app's page makes
    the row when someone changes them.
    """

    app = models.OneToOneField(MobileApp, on_delete=models.CASCADE, related_name="sending_rules")
    min_interval_minutes = models.PositiveIntegerField(
        "Minimum minutes between notifications",
        default=30,
        help_text="A device that received a notification less than this long ago skips the "
        "next one; 0 turns the cap off. More than once every 30 minutes can seem intrusive.",
    )
    daily_maximum = models.PositiveIntegerField(
        "Notifications a day at most",
        null=True,
        blank=True,
        help_text="A device that received this many in the last 24 hours skips the next one.",
    )
    default_time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="The zone of devices that report none: local-time sends and quiet hours "
        "use it for them.",
    )
    quiet_hours_start = models.TimeField(
        null=True, blank=True, help_text="Local time in each device's zone, such as 22:00."
    )
    quiet_hours_end = models.TimeField(null=True, blank=True, help_text="Such as 08:00.")
    quiet_hours_action = models.CharField(
        "During quiet hours",
        max_length=5,
        choices=QuietHoursAction.choices,
        default=QuietHoursAction.DEFER,
    )

    class Meta:
        verbose_name = verbose_name_plural = "sending rules"

    def __str__(self) -> str:
        return f"Sending rules of app {self.app_id}"

    @classmethod
    def of(cls, app: MobileApp) -> SendingRules:
        """Return the app's rules: its row, or an unsaved one holding the defaults."""
        try:
            return app.sending_rules
        except cls.DoesNotExist:
            # Caches itself on the app (a one-to-one's reverse side), so one query per app.
            return cls(app=app)

    def clean(self) -> None:
        super().clean()
        start, end = self.quiet_hours_start, self.quiet_hours_end
        if (start is None) != (end is None):
            missing = "quiet_hours_end" if end is None else "quiet_hours_start"
            raise ValidationError({missing: "Set both ends of the quiet hours, or neither."})
        if start is not None and start == end:
            raise ValidationError({"quiet_hours_end": "Quiet hours must end at another time."})

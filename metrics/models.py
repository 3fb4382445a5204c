"""Rollups of deliveries, kept current by a task so metrics pages never scan deliveries."""

from __future__ import annotations

from django.db import models

from campaigns.models import ATTEMPTED_DELIVERY_STATUSES, Notification


class Counted(models.TextChoices):
    """What a rollup row counts: a final delivery status, or a launch.

    Not a provider's answer (devices.providers.base.Outcome): a delivery's final status is
    what the sending made of the answers, and launches come from the apps.
    """

    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CHANNEL_EXPIRED = "channel_expired", "Channel expiration failure"
    UNKNOWN = "unknown", "Unknown"
    EXPIRED = "expired", "Expired"
    SKIPPED = "skipped", "Skipped"
    LAUNCHED = "launched", "Launches"
    CONVERTED = "converted", "Conversions"


class DeliveryCount(models.Model):
    """How many of a notification's deliveries reached an outcome in one minute."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="delivery_counts"
    )
    minute = models.DateTimeField()
    platform = models.CharField(max_length=10)
    language = models.CharField(max_length=8, blank=True)
    outcome = models.CharField(max_length=16, choices=Counted.choices)
    count = models.PositiveIntegerField()
    # The conversions' summed value (outcome "converted"); null for other outcomes, or none.
    value = models.DecimalField(max_digits=22, decimal_places=4, null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["notification", "minute"], name="delivery_count_time"),
            models.Index(fields=["minute"], name="delivery_count_minute"),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} {self.minute:%Y-%m-%d %H:%M} {self.outcome} {self.count}"


class NotificationSummary(models.Model):
    """A notification's totals as of its last rollup: what lists and rates read."""

    notification = models.OneToOneField(
        Notification, on_delete=models.CASCADE, primary_key=True, related_name="summary"
    )
    targeted = models.PositiveIntegerField(default=0)
    sending = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    channel_expired = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)
    expired = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    skipped_reasons = models.JSONField(default=dict)
    launches = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)
    # The sum of the conversions' values; null when none had one.
    conversion_value = models.DecimalField(max_digits=22, decimal_places=4, null=True, blank=True)
    rolled_up_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "notification summaries"

    def __str__(self) -> str:
        return f"{self.notification_id}: {self.sent} sent"

    @property
    def attempted(self) -> int:
        """Sum the counts of the attempted statuses (each has the field of its name)."""
        return sum(getattr(self, status) for status in ATTEMPTED_DELIVERY_STATUSES)

    @property
    def delivery_rate(self) -> float | None:
        return self.sent / self.attempted if self.attempted else None

    @property
    def launch_rate(self) -> float | None:
        return self.launches / self.sent if self.sent else None

    @property
    def conversion_rate(self) -> float | None:
        return self.conversions / self.sent if self.sent else None


class Watermark(models.Model):
    """How far a periodic task has read, so its next run reads only what is newer."""

    name = models.CharField(max_length=64, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {self.at}"

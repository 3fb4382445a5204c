"""An app's webhook endpoints, the events kept for them, the batches that carry the events and
each attempt to deliver a batch."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from devices import delivery_events, encryption
from devices.models import MobileApp

MAX_URL_LENGTH = 2048


class Endpoint(models.Model):
    """An https URL of the app's own systems that receives its delivery events, signed."""

    app = models.ForeignKey(MobileApp, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.CharField("URL", max_length=MAX_URL_LENGTH)
    description = models.CharField(max_length=200, blank=True)
    # One column per kind: capturing a sending batch's events joins on them in SQL.
    wants_sent = models.BooleanField("Sent", default=True)
    wants_failed = models.BooleanField("Failed", default=True)
    wants_launched = models.BooleanField("Launched", default=True)
    wants_converted = models.BooleanField("Converted", default=True)
    wants_opted_out = models.BooleanField("Opted out", default=True)
    enabled = models.BooleanField(default=True)
    # Set when failures went on too long; enabling the endpoint again clears it.
    paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    paused_reason = models.CharField(max_length=300, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    # Encrypted (devices/encryption.py). The previous secret still signs until it lapses, so a
    # receiver can switch to the new one without refusing a delivery.
    encrypted_secret = models.TextField(editable=False)
    encrypted_previous_secret = models.TextField(blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    secret_set_at = models.DateTimeField(editable=False, default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return self.url

    @property
    def kinds(self) -> list[str]:
        """The kinds of events it wants, in the product's order."""
        return [kind for kind in delivery_events.KINDS if getattr(self, f"wants_{kind}")]

    def set_kinds(self, kinds: list[str]) -> None:
        for kind in delivery_events.KINDS:
            setattr(self, f"wants_{kind}", kind in kinds)

    @property
    def receiving(self) -> bool:
        return self.enabled and self.paused_at is None

    @sensitive_variables("secret")
    def store_secret(self, secret: str, keep_previous_until: object = None) -> None:
        """Encrypt and keep the signing secret; the old one signs too until the given time."""
        if keep_previous_until is not None and self.encrypted_secret:
            self.encrypted_previous_secret = self.encrypted_secret
            self.previous_secret_until = keep_previous_until
        self.encrypted_secret = encryption.encrypt(secret)
        self.secret_set_at = timezone.now()

    def signing_secrets(self) -> list[str]:
        """Decrypt the secrets that sign now: the current one, and the previous until it lapses."""
        secrets = [encryption.decrypt(self.encrypted_secret)]
        lapses = self.previous_secret_until
        if self.encrypted_previous_secret and lapses and lapses > timezone.now():
            secrets.append(encryption.decrypt(self.encrypted_previous_secret))
        return secrets


class Event(models.Model):
    """An event kept for one endpoint until its batch is pruned.

    `event_id` is the id receivers de-duplicate on: kind and what it is about (a delivery's id,
    a conversion's key), the same every time that moment is announced.
    """

    # Indexed by unique_webhook_event, which starts with it: one index less to write per event.
    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    event_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=16)
    notification_id = models.BigIntegerField(null=True, blank=True)
    delivery_id = models.BigIntegerField(null=True, blank=True)
    install_id = models.UUIDField(null=True, blank=True)
    user_id = models.CharField(max_length=256, null=True, blank=True)  # noqa: DJ001
    occurred_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)
    data = models.JSONField(null=True, blank=True)
    batch = models.ForeignKey(
        "Batch", null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="unique_webhook_event")
        ]
        indexes = [
            models.Index(
                fields=["endpoint", "id"],
                condition=models.Q(batch__isnull=True),
                name="webhook_event_unbatched",
            )
        ]

    def __str__(self) -> str:
        return self.event_id


class BatchStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead letter"


class Batch(models.Model):
    """Events posted together to one endpoint: the body as first built, and where it stands."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="batches")
    body = models.TextField()
    event_count = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=BatchStatus.choices, default=BatchStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "webhook batch"
        verbose_name_plural = "webhook batches"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_batch_due")]

    def __str__(self) -> str:
        return f"Batch {self.pk} of {self.event_count} events"


class Attempt(models.Model):
    """One POST of a batch: what the endpoint answered (a short prefix of it), or why not."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10)  # delivered, retry, permanent
    error = models.CharField(max_length=300, blank=True)
    response_prefix = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["batch", "number"], name="webhook_attempt_batch")]

    def __str__(self) -> str:
        return f"Try {self.number} of batch {self.batch_id}: {self.outcome}"


encryption.ENCRYPTED_COLUMNS.append(
    encryption.EncryptedColumn(Endpoint, "encrypted_secret", "webhook secret(s)")
)
encryption.ENCRYPTED_COLUMNS.append(
    encryption.EncryptedColumn(Endpoint, "encrypted_previous_secret", "webhook secret(s)")
)

"""Who is targeted: segments of an app's devices, defined in the audience language."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from devices.models import MobileApp, validate_property_types
from pushcenter.isolation import ErrorMarked

segment_name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,127}$",
    "Use 1 to 128 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit.",
)


class Segment(ErrorMarked):
    """A named audience: the devices of an app that match a definition when a send starts."""

    app = models.ForeignKey(MobileApp, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(
        max_length=128,
        validators=[segment_name_validator],
        help_text="App Center calls it the audience name; it appears in API paths.",
    )
    description = models.TextField(blank=True, max_length=1000)
    definition = models.TextField(
        max_length=4000, help_text="Such as carrierCountry eq 'US' and appVersion ge '2.1'."
    )
    custom_property_types = models.JSONField(
        "Custom properties",
        default=dict,
        blank=True,
        validators=[validate_property_types],
        help_text='Types of the custom properties the definition uses, such as {"dog-lover": '
        '"boolean"}; they join the app\'s declared types.',
    )
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

    class Meta:
        ordering = ["app", "name"]
        constraints = [
            models.UniqueConstraint(fields=["app", "name"], name="unique_segment_name_per_app")
        ]

    def __str__(self) -> str:
        return self.name

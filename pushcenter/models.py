"""What Push Center keeps about the people who use its dashboard."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class UserTimeZone(models.Model):
    """The time zone a user chose: the dashboard shows and takes absolute times in it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_zone_choice"
    )
    time_zone = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.user}: {self.time_zone}"

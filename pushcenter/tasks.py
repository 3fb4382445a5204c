"""Tasks of the project as a whole."""

from __future__ import annotations

import socket

from celery import shared_task
from django.db import connection


@shared_task(name="pushcenter.health_check")
def health_check() -> dict[str, object]:
    """Prove that a worker runs and reaches the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        database_ok = cursor.fetchone() == (1,)
    return {"worker": socket.gethostname(), "database": database_ok}

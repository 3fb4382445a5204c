"""Parameters of the hand-written INSERT … SELECT statements, as each database wants them."""

from __future__ import annotations

from datetime import datetime

from django.db import connection


def json_placeholder() -> str:
    """The placeholder of a JSON text parameter: PostgreSQL needs its type named."""
    return "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"


def moment(value: datetime | None) -> object:
    """A datetime as the ORM stores it, so raw writes compare equal to the ORM's.

    SQLite keeps datetimes as text, naive UTC; written raw, an aware one would carry "+00:00"
    and sort after the same instant written by the ORM.
    """
    return connection.ops.adapt_datetimefield_value(value)

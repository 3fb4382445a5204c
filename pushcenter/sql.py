"""Hand-written INSERT … SELECT statements: the one way to run them, and their parameters as
each database wants them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection
from django.db.models import Model


def json_placeholder() -> str:
    """The placeholder of a JSON text parameter: PostgreSQL needs its type named."""
    return "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"


def moment(value: datetime | None) -> object:
    """A datetime as the ORM stores it, so raw writes compare equal to the ORM's.

    SQLite keeps datetimes as text, naive UTC; written raw, an aware one would carry "+00:00"
    and sort after the same instant written by the ORM.
    """
    return connection.ops.adapt_datetimefield_value(value)


def insert_select(
    model: type[Model],
    columns: Sequence[str],
    select: str,
    params: Sequence[object],
    on_conflict: str = "",
) -> int:
    """INSERT INTO the model's table the rows `select` gives, one per row; return how many.

    `select` yields `columns` in order and ends with its FROM clause (joins allowed, no WHERE:
    its rows come from subqueries). `on_conflict` is an upsert's target and action, such as
    "(notification_id, device_id) WHERE trigger_key IS NULL DO NOTHING"; the SELECT is then
    closed by "WHERE true", since SQLite cannot otherwise tell a join's ON from the upsert's
    (sqlite.org/lang_upsert.html, "Parsing Ambiguity"). Only names from the models' metadata
    and our own SQL enter the statement; every value is a parameter.
    """
    quote = connection.ops.quote_name
    names = ", ".join(map(quote, columns))
    if on_conflict:
        select = f"{select} WHERE true ON CONFLICT {on_conflict}"
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({names}) {select}", params)  # noqa: S608
        return cursor.rowcount

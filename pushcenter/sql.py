"""Hand-written statements: INSERT … SELECT, filters and updates by a list of ids, and their
parameters as each database wants them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import BooleanField, Model, QuerySet
from django.db.models.expressions import RawSQL


def execute_prepared(cursor: CursorWrapper, sql: str, params: Sequence[object]) -> None:
    """Execute a statement that PostgreSQL parses and plans once per connection, not per call.

    Only for a statement whose best plan does not depend on its values, such as an upsert by
    key: the prepared statement's generic plan serves every call. Django's execute takes no
    `prepare`, so the driver's cursor runs it, and Django's query log does not list it.
    """
    if connection.vendor != "postgresql":
        cursor.execute(sql, params)
        return
    with connection.wrap_database_errors:
        cursor.cursor.execute(sql, params, prepare=True)


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


# A bulk insert this large, and at least this share of the table's rows, refreshes its
# statistics at once; the share is autovacuum_analyze_scale_factor's default.
ANALYZED_INSERT_ROWS = 10_000
ANALYZED_INSERT_SHARE = 0.1


def analyze_after_bulk_insert(model: type[Model], inserted: int) -> None:
    """Refresh PostgreSQL's statistics of a table that just grew by a large share.

    PostgreSQL's "Populating a Database" (14.4.9, "Run ANALYZE Afterwards"): the planner knows
    rows only from statistics, and autovacuum refreshes them only after its next nap (a minute
    by default). A send's first batches would be planned as if its deliveries were not there:
    with the table's statistics those of an empty table, the caps query scanned every
    delivery of the send. ANALYZE reads a fixed sample (300 × default_statistics_target rows),
    so it costs as much on a table of ten million rows as on one of a million.
    """
    if connection.vendor != "postgresql" or inserted < ANALYZED_INSERT_ROWS:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        known = max(cursor.fetchone()[0], 0)  # -1 when never analyzed
        if inserted >= known * ANALYZED_INSERT_SHARE:
            cursor.execute(f"ANALYZE {table}")


def with_ids(queryset: QuerySet, ids: Sequence[int], column: str = "") -> QuerySet:
    """Filter a queryset to the rows whose primary key (or integer `column`) is one of `ids`.

    On PostgreSQL the ids travel as one array parameter (`id = ANY(%s)`): `id IN (%s, %s, …)`
    with a thousand placeholders made psycopg parse a statement too long for its cache on
    every batch, a sixth of a sending worker's time. SQLite keeps the IN list.
    """
    meta = queryset.model._meta
    column = column or meta.pk.column
    if connection.vendor != "postgresql":
        return queryset.filter(**{f"{meta.get_field(column).name}__in": ids})
    quote = connection.ops.quote_name
    # Only names from the model's metadata enter the SQL; the ids are a parameter.
    condition = f"{quote(meta.db_table)}.{quote(column)} = ANY(%s)"
    return queryset.filter(RawSQL(condition, (list(ids),), output_field=BooleanField()))  # noqa: S611


def update_rows(
    model: type[Model],
    columns: Mapping[str, str],
    rows: Sequence[Sequence],
    same: Mapping[str, object] | None = None,
) -> None:
    """Write each row's values, keyed by its primary key, in one statement.

    `columns` names each column and its SQL type; a row is (pk, *values in that order). `same`
    gives the columns every row gets the same value in. On PostgreSQL it is UPDATE … FROM
    unnest(one array per column), a dozen parameters whatever the row count; SQLite, a
    laptop's database, runs one UPDATE per row.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    same = same or {}
    fixed = [f"{quote(name)} = %s" for name in same]
    fixed_params = [_param(value) for value in same.values()]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            sets = ", ".join([*(f"{quote(name)} = %s" for name in columns), *fixed])
            cursor.executemany(
                f"UPDATE {table} SET {sets} WHERE {pk} = %s",  # noqa: S608
                [[*map(_param, row[1:]), *fixed_params, row[0]] for row in rows],
            )
            return
        arrays = ", ".join(f"%s::{kind}[]" for kind in ["bigint", *columns.values()])
        sets = ", ".join([*(f"{quote(name)} = v.{quote(name)}" for name in columns), *fixed])
        names = ", ".join(quote(name) for name in columns)
        cursor.execute(
            f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v(id, {names}) "  # noqa: S608
            f"WHERE {table}.{pk} = v.id",
            [*fixed_params, *(list(column) for column in zip(*rows, strict=True))],
        )


def _param(value: object) -> object:
    return moment(value) if isinstance(value, datetime) else value

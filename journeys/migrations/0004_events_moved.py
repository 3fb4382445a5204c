"""Events move from journeys_event to the events app's events_event.

journeys/0001 made journeys_event before events had their own app; a new database never has
it. On a database that does, its rows are copied, ids and all, and the table is dropped.
"""

from django.core.management.color import no_style
from django.db import migrations

LEGACY_TABLE = "journeys_event"
COLUMNS = ("id", "app_id", "device_id", "name", "properties", "source", "occurred_at")


def move_legacy_events(apps, schema_editor):
    """Copy journeys_event's rows into events_event, then drop journeys_event."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if LEGACY_TABLE not in connection.introspection.table_names(cursor):
            return
    event = apps.get_model("events", "Event")
    quote = connection.ops.quote_name
    columns = ", ".join(map(quote, COLUMNS))
    schema_editor.execute(
        f"INSERT INTO {quote(event._meta.db_table)} ({columns}) "
        f"SELECT {columns} FROM {quote(LEGACY_TABLE)}"
    )
    # The ids were copied, so new events must be numbered after them (PostgreSQL's sequence).
    for statement in connection.ops.sequence_reset_sql(no_style(), [event]):
        schema_editor.execute(statement)
    schema_editor.execute(f"DROP TABLE {quote(LEGACY_TABLE)}")


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0001_initial'),
        ('journeys', '0003_segment_com_source'),
    ]

    operations = [
        migrations.RunPython(move_legacy_events, migrations.RunPython.noop),
    ]

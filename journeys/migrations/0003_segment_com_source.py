"""An app's Segment.com shared secret moves to journeys' SegmentComSource.

It was two columns of devices_mobileapp, which devices/0010 made before journeys held it. On a
database that has them, each app with a secret gets a row with it (still encrypted), then the
columns go; a new database never had them.
"""

import django.db.models.deletion
from django.db import migrations, models

LEGACY_SECRET = "encrypted_segment_secret"
LEGACY_SET_AT = "segment_secret_set_at"


def move_legacy_secrets(apps, schema_editor):
    """Copy each app's legacy secret into its SegmentComSource row, then drop the columns."""
    connection = schema_editor.connection
    app_table = apps.get_model("devices", "MobileApp")._meta.db_table
    with connection.cursor() as cursor:
        present = {c.name for c in connection.introspection.get_table_description(cursor, app_table)}
    # devices/0010 added both columns at once: both are there, or neither.
    if LEGACY_SECRET not in present:
        return
    quote = connection.ops.quote_name
    source_table = apps.get_model("journeys", "SegmentComSource")._meta.db_table
    schema_editor.execute(
        f"INSERT INTO {quote(source_table)} (app_id, encrypted_secret, secret_set_at) "
        f"SELECT id, {quote(LEGACY_SECRET)}, {quote(LEGACY_SET_AT)} FROM {quote(app_table)} "
        f"WHERE {quote(LEGACY_SECRET)} <> ''"
    )
    for column in (LEGACY_SECRET, LEGACY_SET_AT):
        schema_editor.execute(f"ALTER TABLE {quote(app_table)} DROP COLUMN {quote(column)}")


class Migration(migrations.Migration):

    dependencies = [
        ('devices', '0013_drop_manage_all_api_tokens'),
        ('journeys', '0002_last_error'),
    ]

    operations = [
        migrations.CreateModel(
            name='SegmentComSource',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('encrypted_secret', models.TextField(blank=True, editable=False)),
                ('secret_set_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('app', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='segment_com_source', to='devices.mobileapp')),
            ],
            options={
                'verbose_name': 'Segment.com source',
            },
        ),
        migrations.RunPython(move_legacy_secrets, migrations.RunPython.noop),
    ]

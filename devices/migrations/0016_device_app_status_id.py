"""Index an app's devices by status and id; vacuum and analyze the devices table more often.

Segments read an app's devices from (app, status, id) alone only where the visibility map says
their pages are all-visible, and registrations spread over the table clear it page by page.
PostgreSQL's defaults vacuum a table after a fifth of its rows changed (analyze after a tenth);
for devices a fiftieth keeps index-only scans, and the statistics of a growing app, current
(https://www.postgresql.org/docs/current/routine-vacuuming.html#AUTOVACUUM, "per-table
storage parameters"). SQLite has neither.
"""

import django.db.models.deletion
from django.db import migrations, models

AUTOVACUUM = (
    "autovacuum_vacuum_scale_factor",
    "autovacuum_vacuum_insert_scale_factor",
    "autovacuum_analyze_scale_factor",
)


def vacuum_more_often(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        settings = ", ".join(f"{name} = 0.02" for name in AUTOVACUUM)
        schema_editor.execute(f"ALTER TABLE devices_device SET ({settings})")


def vacuum_as_before(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE devices_device RESET ({', '.join(AUTOVACUUM)})")


class Migration(migrations.Migration):

    dependencies = [
        ('devices', '0015_device_account_id'),
    ]

    # The new index is built before the one it replaces goes.
    operations = [
        migrations.AddIndex(
            model_name='device',
            index=models.Index(fields=['app', 'status', 'id'], name='device_app_status_id'),
        ),
        migrations.RemoveIndex(
            model_name='device',
            name='device_app_status',
        ),
        migrations.AlterField(
            model_name='device',
            name='app',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='devices', to='devices.mobileapp'),
        ),
        migrations.RunPython(vacuum_more_often, vacuum_as_before),
    ]

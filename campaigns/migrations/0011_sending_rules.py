"""An app's sending rules (frequency caps, default zone, quiet hours) move to campaigns.

They were columns of devices_mobileapp, which devices/0007 and 0008 made before campaigns held
them. On a database that has those columns, each app gets a row with its values, then the
columns go; a new database never had them, and an app without a row follows the defaults.
"""

import campaigns.models
import django.db.models.deletion
from django.db import migrations, models

LEGACY_COLUMNS = (
    "min_interval_minutes",
    "daily_maximum",
    "default_time_zone",
    "quiet_hours_start",
    "quiet_hours_end",
    "quiet_hours_action",
)


def move_legacy_rules(apps, schema_editor):
    """Copy each app's legacy columns into its SendingRules row, then drop the columns."""
    connection = schema_editor.connection
    app_table = apps.get_model("devices", "MobileApp")._meta.db_table
    with connection.cursor() as cursor:
        present = {c.name for c in connection.introspection.get_table_description(cursor, app_table)}
        legacy = [c for c in LEGACY_COLUMNS if c in present]
        if not legacy:
            return
        quote = connection.ops.quote_name
        cursor.execute(f"SELECT id, {', '.join(map(quote, legacy))} FROM {quote(app_table)}")
        rows = cursor.fetchall()
    # A database that applied devices/0007 but not 0008 has the caps only: the rest default.
    rules = apps.get_model("campaigns", "SendingRules")
    rules.objects.bulk_create(
        [rules(app_id=row[0], **dict(zip(legacy, row[1:]))) for row in rows], batch_size=500
    )
    for column in legacy:
        schema_editor.execute(f"ALTER TABLE {quote(app_table)} DROP COLUMN {quote(column)}")


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0010_delivery_trigger_key'),
        ('devices', '0013_drop_manage_all_api_tokens'),
    ]

    operations = [
        migrations.CreateModel(
            name='SendingRules',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('min_interval_minutes', models.PositiveIntegerField(default=30, help_text='A device that received a notification less than this long ago skips the next one; 0 turns the cap off. More than once every 30 minutes can seem intrusive.', verbose_name='Minimum minutes between notifications')),
                ('daily_maximum', models.PositiveIntegerField(blank=True, help_text='A device that received this many in the last 24 hours skips the next one.', null=True, verbose_name='Notifications a day at most')),
                ('default_time_zone', models.CharField(default='UTC', help_text='The zone of devices that report none: local-time sends and quiet hours use it for them.', max_length=64, validators=[campaigns.models.validate_time_zone])),
                ('quiet_hours_start', models.TimeField(blank=True, help_text="Local time in each device's zone, such as 22:00.", null=True)),
                ('quiet_hours_end', models.TimeField(blank=True, help_text='Such as 08:00.', null=True)),
                ('quiet_hours_action', models.CharField(choices=[('defer', 'Send when they end'), ('skip', 'Skip the device')], default='defer', max_length=5, verbose_name='During quiet hours')),
                ('app', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='sending_rules', to='devices.mobileapp')),
            ],
            options={
                'verbose_name': 'sending rules',
                'verbose_name_plural': 'sending rules',
            },
        ),
        migrations.RunPython(move_legacy_rules, migrations.RunPython.noop),
    ]

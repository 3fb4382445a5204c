"""Index custom properties for JSONB containment on PostgreSQL (SQLite has no such index)."""

from django.db import migrations

INDEX = "device_custom_properties_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON devices_device "
            "USING gin (custom_properties jsonb_path_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("devices", "0004_property_type_rules")]

    operations = [migrations.RunPython(create, drop)]

from django.db import migrations

from pushcenter.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("pushcenter", "0009_user_time_zone"),
        ("webhooks", "0001_endpoints_events_batches"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]

from django.db import migrations

from pushcenter.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("pushcenter", "0005_roles_work_with_notifications"),
        ("experiments", "0001_initial"),
        ("journeys", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]

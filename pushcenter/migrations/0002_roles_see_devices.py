from django.db import migrations

from pushcenter.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("pushcenter", "0001_roles"),
        ("devices", "0002_devices"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]

from django.db import migrations

from pushcenter.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("pushcenter", "0002_roles_see_devices"),
        ("devices", "0003_app_visibility"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]

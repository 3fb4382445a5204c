from django.db import migrations

from pushcenter.roles import sync_roles


class Migration(migrations.Migration):
    """Events have their own app: the roles that read them get the events app's permission."""

    dependencies = [
        ("pushcenter", "0007_roles_scoped_to_members"),
        ("events", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]

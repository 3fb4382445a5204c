from django.db import migrations

from pushcenter.roles import sync_roles


class Migration(migrations.Migration):
    """No role sees every app any more: people see the organizations and apps they are given."""

    dependencies = [
        ("pushcenter", "0006_roles_work_with_tests_and_journeys"),
        ("devices", "0012_client_keys_and_members"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]

"""No permission for every app's tokens: people see the tokens of the apps they are given."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0012_client_keys_and_members"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="apitoken",
            options={"ordering": ["-created_at"], "verbose_name": "API token"},
        ),
    ]

"""Client keys beside server tokens; people given organizations or apps (developers become members)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0011_provider_suspension"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="kind",
            field=models.CharField(
                choices=[("server", "Server token"), ("client", "Client key")],
                default="server",
                max_length=6,
            ),
        ),
        migrations.RenameField(model_name="mobileapp", old_name="developers", new_name="members"),
        migrations.AlterField(
            model_name="mobileapp",
            name="members",
            field=models.ManyToManyField(
                blank=True,
                help_text="People who work on this app, in their role; its organization's "
                "members too.",
                related_name="member_apps",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="organization",
            name="members",
            field=models.ManyToManyField(
                blank=True,
                help_text="People who work on every app of this organization, in their role.",
                related_name="member_organizations",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]

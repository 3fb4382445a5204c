"""Existing WNS credentials keep the Azure AD flow: auth_flow defaults to azure_ad."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0013_drop_manage_all_api_tokens"),
    ]

    operations = [
        migrations.AddField(
            model_name="wnscredential",
            name="auth_flow",
            field=models.CharField(
                choices=[
                    ("azure_ad", "Azure AD app registration"),
                    ("package_sid", "Package SID (Partner Center / Store)"),
                ],
                default="azure_ad",
                max_length=12,
                verbose_name="Authentication flow",
            ),
        ),
        migrations.AddField(
            model_name="wnscredential",
            name="package_sid",
            field=models.CharField(
                blank=True,
                help_text="Partner Center's Package SID, ms-app://s-1-15-2-….",
                max_length=256,
                verbose_name="Package SID",
            ),
        ),
        migrations.AlterField(
            model_name="wnscredential",
            name="client_id",
            field=models.CharField(
                blank=True, max_length=36, verbose_name="Application (client) ID"
            ),
        ),
        migrations.AlterField(
            model_name="wnscredential",
            name="object_id",
            field=models.CharField(blank=True, max_length=36, verbose_name="Object ID"),
        ),
        migrations.AlterField(
            model_name="wnscredential",
            name="tenant_id",
            field=models.CharField(blank=True, max_length=36, verbose_name="Tenant ID"),
        ),
    ]

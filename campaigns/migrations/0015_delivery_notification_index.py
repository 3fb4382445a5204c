import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0014_windows_texts"),
    ]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="notification",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to="campaigns.notification",
            ),
        ),
    ]

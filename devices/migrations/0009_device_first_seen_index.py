# A welcome journey's look for new devices.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('devices', '0008_quiet_hours_and_provider_health'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='device',
            index=models.Index(fields=['app', 'first_seen'], name='device_app_first_seen'),
        ),
    ]

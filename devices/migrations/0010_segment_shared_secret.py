# Segment's shared secret, encrypted at rest.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('devices', '0009_device_first_seen_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='mobileapp',
            name='encrypted_segment_secret',
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name='mobileapp',
            name='segment_secret_set_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]

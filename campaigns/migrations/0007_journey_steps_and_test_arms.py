# Deliveries of automated notifications (one per occurrence of their trigger, with its
# properties) and a notification's purpose.
#
# The occurrence's key began as a foreign key to journeys.Enrollment without a database
# constraint; it is written here as the plain column that foreign key made (bigint, indexed,
# "enrollment_id"), so campaigns' history never depends on journeys and databases that applied
# the foreign key match. The migration delivery_trigger_key gives it its own name.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0006_idempotency_keys'),
        ('devices', '0009_device_first_seen_index'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='delivery',
            name='one_delivery_per_device',
        ),
        migrations.AddField(
            model_name='delivery',
            name='enrollment',
            field=models.BigIntegerField(blank=True, db_column='enrollment_id', db_index=True, null=True),
        ),
        migrations.AddField(
            model_name='delivery',
            name='properties',
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='notification',
            name='purpose',
            field=models.CharField(choices=[('campaign', 'Campaign'), ('experiment', 'A/B test arm'), ('journey', 'Journey step')], default='campaign', editable=False, max_length=10),
        ),
        migrations.AlterField(
            model_name='notification',
            name='status',
            field=models.CharField(choices=[('draft', 'Draft'), ('scheduled', 'Scheduled'), ('sending', 'Sending'), ('completed', 'Completed'), ('cancelled', 'Cancelled'), ('expired', 'Expired'), ('automated', 'Automated')], default='draft', editable=False, max_length=10),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.UniqueConstraint(condition=models.Q(('enrollment__isnull', True)), fields=('notification', 'device'), name='one_delivery_per_device'),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.UniqueConstraint(condition=models.Q(('enrollment__isnull', False)), fields=('enrollment', 'notification'), name='one_delivery_per_enrollment_step'),
        ),
    ]

# Journeys, events and A/B test arms.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0006_idempotency_keys'),
        ('devices', '0009_device_first_seen_index'),
        ('journeys', '0001_initial'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='delivery',
            name='one_delivery_per_device',
        ),
        migrations.AddField(
            model_name='delivery',
            name='enrollment',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='journeys.enrollment'),
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

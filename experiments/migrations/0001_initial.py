# Journeys, events and A/B test arms.

import django.db.models.deletion
import experiments.models
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('campaigns', '0006_idempotency_keys'),
        ('devices', '0009_device_first_seen_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='Experiment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=128)),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('running', 'Running'), ('decided', 'Winner sent'), ('cancelled', 'Cancelled')], default='draft', editable=False, max_length=10)),
                ('holdout_percent', models.PositiveSmallIntegerField(default=0, help_text='A share of the audience that gets nothing, to measure what sending changes.', verbose_name='Holdout (%)')),
                ('winner_after_hours', models.PositiveSmallIntegerField(blank=True, help_text='Empty: no winner send. Otherwise the best variant then goes to the rest.', null=True, verbose_name='Send the winner after (hours)')),
                ('winner_metric', models.CharField(choices=[('launch_rate', 'App launch rate'), ('delivery_rate', 'Delivery rate'), ('conversion_rate', 'Conversion rate (the conversion event)')], default='launch_rate', max_length=16)),
                ('conversion_event', models.CharField(blank=True, help_text="An event name, such as purchase: each arm's people who report it after the send count as conversions, the holdout's included.", max_length=128)),
                ('seed', models.PositiveIntegerField(default=experiments.models._new_seed, editable=False)),
                ('started_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('decided_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('app', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='experiments', to='devices.mobileapp')),
            ],
            options={
                'verbose_name': 'A/B test',
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='Arm',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('variant', 'Variant'), ('holdout', 'Holdout'), ('winner', 'Winner, to the rest')], default='variant', max_length=8)),
                ('label', models.CharField(max_length=16)),
                ('percent', models.PositiveSmallIntegerField(default=0)),
                ('bucket_from', models.PositiveSmallIntegerField(default=0)),
                ('bucket_to', models.PositiveSmallIntegerField(default=0)),
                ('notification', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='arm', to='campaigns.notification')),
                ('experiment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='arms', to='experiments.experiment')),
            ],
            options={
                'ordering': ['experiment', 'kind', 'label'],
            },
        ),
    ]

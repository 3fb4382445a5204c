# Journeys, their steps and enrollments. Events were made here too, as journeys_event, before
# they had their own app; a new database makes them in events/0001 only, and journeys/0004
# moves an older database's rows there.

import datetime
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('campaigns', '0006_idempotency_keys'),
        ('devices', '0009_device_first_seen_index'),
        ('segments', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='Journey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=128)),
                ('trigger', models.CharField(choices=[('first_registration', 'A device registers for the first time'), ('event', 'An event is reported'), ('segment_entry', 'A device enters a segment')], max_length=20)),
                ('event_name', models.CharField(blank=True, help_text="For an event trigger: the event's name, such as product_on_sale.", max_length=128)),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('active', 'Active'), ('paused', 'Paused')], default='draft', editable=False, max_length=8)),
                ('activated_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('scanned_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('app', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='journeys', to='devices.mobileapp')),
                ('segment', models.ForeignKey(blank=True, help_text='For a segment trigger: a device enters the journey when it enters this segment.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='journeys', to='segments.segment')),
            ],
            options={
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='Enrollment',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('status', models.CharField(choices=[('active', 'In the journey'), ('completed', 'Completed'), ('already_in', 'Already in the segment when the journey started')], default='active', max_length=10)),
                ('next_position', models.PositiveSmallIntegerField(default=1)),
                ('next_at', models.DateTimeField(blank=True, null=True)),
                ('properties', models.JSONField(blank=True, null=True)),
                ('created_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('device', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='devices.device')),
                ('journey', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='enrollments', to='journeys.journey')),
            ],
            options={
                'indexes': [models.Index(fields=['status', 'next_at'], name='enrollment_due')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'active')), fields=('journey', 'device'), name='one_active_enrollment')],
            },
        ),
        migrations.CreateModel(
            name='Step',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveSmallIntegerField()),
                ('wait', models.DurationField(default=datetime.timedelta(0), help_text='How long after the previous step (or entering) it sends.')),
                ('journey', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='journeys.journey')),
                ('notification', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='journey_step', to='campaigns.notification')),
            ],
            options={
                'ordering': ['journey', 'position'],
                'constraints': [models.UniqueConstraint(fields=('journey', 'position'), name='one_step_per_position')],
            },
        ),
    ]

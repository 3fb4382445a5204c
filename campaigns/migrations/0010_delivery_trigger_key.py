# A delivery's occurrence key gets a name of its own, trigger_key, that names no app: the
# column enrollment_id is renamed in place, its values kept (the apps that trigger
# notifications key their occurrences by id). Its lone index goes first (SQLite's column
# rename would keep it): the partial unique index on (trigger_key, notification) serves every
# lookup by key, and one index less is cheaper on each delivery inserted. The two partial
# unique constraints are redefined on the new name.
#
# A notification's purposes now come from the apps that register them (campaigns.extensions).

import campaigns.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0009_last_error'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='delivery',
            name='one_delivery_per_device',
        ),
        migrations.RemoveConstraint(
            model_name='delivery',
            name='one_delivery_per_enrollment_step',
        ),
        migrations.AlterField(
            model_name='delivery',
            name='enrollment',
            field=models.BigIntegerField(blank=True, db_column='enrollment_id', null=True),
        ),
        migrations.RenameField(
            model_name='delivery',
            old_name='enrollment',
            new_name='trigger_key',
        ),
        migrations.AlterField(
            model_name='delivery',
            name='trigger_key',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='notification',
            name='purpose',
            field=models.CharField(choices=campaigns.models.purpose_choices, default='campaign', editable=False, max_length=10),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.UniqueConstraint(condition=models.Q(('trigger_key__isnull', True)), fields=('notification', 'device'), name='one_delivery_per_device'),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.UniqueConstraint(condition=models.Q(('trigger_key__isnull', False)), fields=('trigger_key', 'notification'), name='one_delivery_per_trigger'),
        ),
    ]

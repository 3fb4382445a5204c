"""Notifications get a kind: marketing (held to caps and quiet hours) or transactional.

Every existing row becomes marketing, as every send was held to the rules until now. The Push
API's earlier notifications cannot be told apart from the dashboard's: nothing stored marks
them (no author is also what a deleted user's notifications have), so they stay marketing.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0011_sending_rules'),
    ]

    operations = [
        migrations.AddField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('marketing', 'Marketing'), ('transactional', 'Transactional')], default='marketing', help_text="Marketing: held to the app's frequency caps and quiet hours. Transactional (an order shipped, a security alert): sent at once, past the caps and quiet hours, and not counted toward the caps. Opt-outs and categories apply to both.", max_length=13),
        ),
    ]

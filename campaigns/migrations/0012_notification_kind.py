"""Notifications get a kind: marketing (held to caps and quiet hours) or transactional.

Existing rows become marketing, except those a Push API request made with an Idempotency-Key:
the key's row names them, and the API's default is transactional. The API's other notifications
cannot be told apart from the dashboard's (no author is also what a deleted user's notifications
and the demo's have), so they stay marketing.
"""

from django.db import migrations, models


def api_sends_are_transactional(apps, schema_editor):
    """Mark the notifications an idempotent Push API request made as transactional."""
    Notification = apps.get_model("campaigns", "Notification")
    IdempotencyKey = apps.get_model("campaigns", "IdempotencyKey")
    made_by_api = IdempotencyKey.objects.values("notification_id")
    Notification.objects.filter(pk__in=made_by_api).update(kind="transactional")


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
        migrations.RunPython(api_sends_are_transactional, migrations.RunPython.noop),
    ]

"""Bodies and answers of the Push API (App Center's, with our extensions) and of launches."""

from __future__ import annotations

from rest_framework import serializers

from campaigns.models import Kind
from devices.serializers import StrictBooleanField, StrictSerializer, TextField

KIND_HELP = (
    "Push Center: transactional (the default, as App Center never held API sends back) goes "
    "at once, past the app's frequency caps and quiet hours, and does not count toward the "
    "caps; marketing is held to them, as the dashboard's notifications are. Opt-outs and "
    "categories apply to both."
)
KIND_CHOICES = ", ".join(f'"{value}"' for value in Kind.values)

TARGET_LISTS = {
    "audiences_target": "audiences",
    "devices_target": "devices",
    "user_ids_target": "user_ids",
}


class NotificationContentSerializer(StrictSerializer):
    name = TextField(max_length=128)
    title = TextField(required=False, allow_blank=True, max_length=200)
    body = TextField(required=False, allow_blank=True, max_length=2000)
    custom_data = serializers.DictField(
        required=False, help_text="Keys and text values the app reads from the payload."
    )


class NotificationTargetSerializer(StrictSerializer):
    type = serializers.ChoiceField(choices=list(TARGET_LISTS))
    audiences = serializers.ListField(
        child=TextField(max_length=128), required=False, allow_empty=False
    )
    devices = serializers.ListField(
        child=serializers.UUIDField(), required=False, allow_empty=False, help_text="Install IDs."
    )
    user_ids = serializers.ListField(
        child=TextField(max_length=256), required=False, allow_empty=False
    )

    def validate(self, data: dict) -> dict:
        wanted = TARGET_LISTS[data["type"]]
        if wanted not in data:
            raise serializers.ValidationError({wanted: [f"A {data['type']} lists its {wanted}."]})
        for other in set(TARGET_LISTS.values()) - {wanted}:
            if other in data:
                raise serializers.ValidationError({other: [f"A {data['type']} has no {other}."]})
        return data


class NotificationSendSerializer(StrictSerializer):
    notification_content = NotificationContentSerializer()
    notification_target = NotificationTargetSerializer(
        required=False, allow_null=True, help_text="null or absent: every registered device."
    )
    send_time = serializers.DateTimeField(
        required=False, help_text="Push Center: when to send (ISO 8601, in the future)."
    )
    expires_at = serializers.DateTimeField(
        required=False, help_text="Push Center: when undelivered messages expire (after the send)."
    )
    track_launches = StrictBooleanField(
        required=False, default=True, help_text="Push Center: carry a tracking_id (default true)."
    )
    kind = serializers.ChoiceField(
        choices=Kind.choices,
        required=False,
        default=Kind.TRANSACTIONAL,
        help_text=KIND_HELP,
        error_messages={"invalid_choice": f"Use one of {KIND_CHOICES}, not {{input!r}}."},
    )


class NotificationIdSerializer(serializers.Serializer):
    notification_id = serializers.CharField()


class StatisticsSerializer(serializers.Serializer):
    targeted = serializers.IntegerField()
    sending = serializers.IntegerField()
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    channel_expired = serializers.IntegerField()
    unknown = serializers.IntegerField()
    expired = serializers.IntegerField()
    skipped = serializers.IntegerField()
    skipped_reasons = serializers.DictField(child=serializers.IntegerField())
    launches = serializers.IntegerField()
    delivery_rate = serializers.FloatField(allow_null=True)
    launch_rate = serializers.FloatField(allow_null=True)


class NotificationOverviewSerializer(serializers.Serializer):
    notification_id = serializers.CharField()
    name = serializers.CharField()
    notification_target = serializers.DictField(allow_null=True)
    send_time = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    state = serializers.CharField(
        help_text="Draft, Queued, Sending, Completed, Cancelled or Expired."
    )
    pns_send_success = serializers.IntegerField()
    pns_send_failure = serializers.IntegerField()


class FailureOutcomeSerializer(serializers.Serializer):
    failure_outcome = serializers.CharField()
    count = serializers.IntegerField()


class NotificationDetailsSerializer(NotificationOverviewSerializer):
    notification_content = serializers.DictField()
    kind = serializers.ChoiceField(choices=Kind.choices, help_text=KIND_HELP)
    track_launches = serializers.BooleanField()
    failure_outcomes = FailureOutcomeSerializer(many=True)
    statistics = StatisticsSerializer()


class NotificationListSerializer(serializers.Serializer):
    values = NotificationOverviewSerializer(many=True)
    total = serializers.IntegerField()
    nextLink = serializers.URLField(  # noqa: N815 - App Center's name
        allow_null=True, help_text="The next page, or null on the last."
    )


class LaunchBodySerializer(StrictSerializer):
    tracking_id = TextField(max_length=64, trim_whitespace=False)


class LaunchSerializer(serializers.Serializer):
    tracking_id = serializers.CharField()
    notification_id = serializers.CharField()
    launched_at = serializers.DateTimeField()
    new = serializers.BooleanField(help_text="False when this delivery's launch was known.")

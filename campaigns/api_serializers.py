"""Bodies and answers of the Push API (App Center's, with our extensions) and of launches."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from campaigns.forms import JSON_HELP
from campaigns.models import (
    MAX_CONVERSION_MINUTES,
    MIN_CONVERSION_MINUTES,
    ActivationType,
    ConversionStart,
    Duration,
    InterruptionLevel,
    Kind,
    Priority,
    Scenario,
    Template,
)
from devices.providers.message import BADGE_GLYPHS
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
    "account_ids_target": "account_ids",
}
LANGUAGE_CODES = ", ".join(code for code, _ in settings.LANGUAGES)


def optional_text(max_length: int, help_text: str = "") -> TextField:
    return TextField(required=False, allow_blank=True, max_length=max_length, help_text=help_text)


class LanguageContentSerializer(StrictSerializer):
    """One added language's texts; a text left out is machine-translated from the default."""

    title = optional_text(200)
    subtitle = optional_text(200)
    body = optional_text(2000)


class WindowsContentSerializer(StrictSerializer):
    """What only a Windows toast or tile shows, as the composer's Windows options set it."""

    activation_type = serializers.ChoiceField(choices=ActivationType.choices, required=False)
    launch = optional_text(2048, "The toast's launch arguments, or a URI for protocol.")
    duration = serializers.ChoiceField(choices=Duration.choices, required=False)
    scenario = serializers.ChoiceField(choices=Scenario.choices, required=False)
    image = optional_text(2048)
    audio = optional_text(256, "ms-winsoundevent:Notification.Default or ms-appx:///… .")
    audio_loop = StrictBooleanField(required=False)
    audio_silent = StrictBooleanField(required=False)
    inputs = serializers.ListField(
        child=serializers.DictField(), required=False, help_text=JSON_HELP["inputs"]
    )
    actions = serializers.ListField(
        child=serializers.DictField(), required=False, help_text=JSON_HELP["actions"]
    )
    tile_bindings = serializers.ListField(
        child=serializers.DictField(), required=False, help_text=JSON_HELP["tile_bindings"]
    )


class NotificationContentSerializer(StrictSerializer):
    name = TextField(max_length=128)
    title = optional_text(200)
    body = optional_text(2000)
    custom_data = serializers.DictField(
        required=False, help_text="Keys and text values the app reads from the payload."
    )
    # Push Center's fields, each as the composer has it.
    template = serializers.ChoiceField(
        choices=Template.choices,
        required=False,
        help_text="Push Center: start from a dashboard template (its texts and store links); "
        "the fields given here replace the template's.",
    )
    subtitle = optional_text(200)
    image_url = optional_text(2048, "Push Center: an https image (iOS needs a service extension).")
    url = optional_text(2048, "Push Center: what a tap opens: https, a store or your app's scheme.")
    ios_url = optional_text(2048, "Push Center: what a tap opens on iOS, instead of url.")
    android_url = optional_text(2048, "Push Center: what a tap opens on Android, instead of url.")
    sound = optional_text(64, "Push Center: 'default' or a sound file bundled with the app.")
    badge = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, help_text="Push Center: 0 clears the badge."
    )
    badge_glyph = serializers.ChoiceField(
        choices=BADGE_GLYPHS, required=False, help_text="Push Center: a Windows badge glyph."
    )
    silent = StrictBooleanField(
        required=False,
        default=False,
        help_text="Push Center: data only, shown to no one (APNs background, FCM data, WNS raw); "
        "needs custom_data.",
    )
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    collapse_id = optional_text(16, "Push Center: a newer push with this id replaces this one.")
    category = optional_text(64, "Push Center: the iOS notification category (its buttons).")
    thread_id = optional_text(64, "Push Center: iOS groups alerts of one thread.")
    interruption_level = serializers.ChoiceField(
        choices=InterruptionLevel.choices[1:], required=False
    )
    relevance_score = serializers.FloatField(required=False, min_value=0, max_value=1)
    android_channel = optional_text(100)
    android_tag = optional_text(64)
    windows = WindowsContentSerializer(required=False)
    languages = serializers.DictField(
        child=LanguageContentSerializer(),
        required=False,
        help_text=f"Push Center: texts per added language, by code ({LANGUAGE_CODES}).",
    )

    def validate_languages(self, value: dict) -> dict:
        known = {code for code, _ in settings.LANGUAGES}
        for code in value:
            if code not in known:
                raise serializers.ValidationError(
                    f"{code!r} is not a content language; use one of {LANGUAGE_CODES}."
                )
        return value

    def validate(self, data: dict) -> dict:
        if data.get("silent") and data.get("template", Template.SILENT) != Template.SILENT:
            raise serializers.ValidationError(
                {
                    "silent": [
                        f"A silent push shows nothing: leave out the template {data['template']!r}."
                    ]
                }
            )
        return data


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
    account_ids = serializers.ListField(
        child=TextField(max_length=256),
        required=False,
        allow_empty=False,
        help_text="Every device registered with one of these account_id values.",
    )

    def validate(self, data: dict) -> dict:
        wanted = TARGET_LISTS[data["type"]]
        if wanted not in data:
            raise serializers.ValidationError({wanted: [f"A {data['type']} lists its {wanted}."]})
        for other in set(TARGET_LISTS.values()) - {wanted}:
            if other in data:
                raise serializers.ValidationError({other: [f"A {data['type']} has no {other}."]})
        return data


class ConversionGoalSerializer(StrictSerializer):
    """Push Center: what counts as a conversion, as the composer's Conversion goal sets it."""

    event = TextField(
        max_length=128,
        help_text="The app event that converts, as the Events API names it (such as purchase): "
        "1 to 128 letters, digits, '_', '.', '-', ':' or spaces.",
    )
    window_minutes = serializers.IntegerField(
        required=False,
        default=24 * 60,
        min_value=MIN_CONVERSION_MINUTES,
        max_value=MAX_CONVERSION_MINUTES,
        help_text="How long after the start the event still counts: 1 to 43200 (30 days); "
        "default 1440.",
    )
    starts = serializers.ChoiceField(
        choices=ConversionStart.choices,
        required=False,
        default=ConversionStart.SENT,
        help_text="sent (the default): the window opens when the device's message was sent; "
        "launched: when it opened the app (needs track_launches).",
    )
    value_property = optional_text(
        64,
        "A numeric event property to sum, such as revenue; text or missing values count "
        "the conversion without a value.",
    )


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
    conversion = ConversionGoalSerializer(
        required=False, allow_null=True, help_text="Push Center: null or absent: no goal."
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
    conversions = serializers.IntegerField(help_text="Push Center: deliveries that converted.")
    conversion_rate = serializers.FloatField(
        allow_null=True, help_text="Push Center: conversions / sent."
    )
    conversion_value = serializers.FloatField(
        allow_null=True,
        help_text="Push Center: the conversions' summed value property; null when none had one.",
    )


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
    conversion = ConversionGoalSerializer(allow_null=True)
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

"""The events API and the Segment.com webhook: what people did, reported to start journeys."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.views.decorators.debug import sensitive_variables
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.authentication import app_of
from devices.models import MobileApp
from devices.serializers import StrictSerializer, TextField
from journeys import event_rules, events, segment_com
from journeys.models import SegmentComSource
from pushcenter.api_schema import ErrorSerializer

EVENT_EXAMPLE = OpenApiExample(
    "A saved product is on sale",
    request_only=True,
    value={
        "name": "product_on_sale",
        "user_ids": ["andrew@contosoltd.com"],
        "install_ids": ["00000000-0000-4000-8000-000000000001"],
        "properties": {"product": "Red shoes", "discount": 30},
        "timestamp": "2026-03-21T09:30:00Z",
    },
)
SEGMENT_COM_EXAMPLES = [
    OpenApiExample(
        "track",
        request_only=True,
        value={
            "type": "track",
            "event": "Product Saved",
            "userId": "andrew@contosoltd.com",
            "properties": {"product": "Red shoes"},
            "timestamp": "2026-03-21T09:30:00Z",
        },
    ),
    OpenApiExample(
        "identify",
        request_only=True,
        value={
            "type": "identify",
            "userId": "andrew@contosoltd.com",
            "traits": {"plan": "gold", "dog-lover": True},
        },
    ),
]


class InstallIdField(serializers.UUIDField):
    """An install id: a UUID written as a JSON string."""

    default_error_messages = {
        "invalid": "Must be a UUID such as 00000000-0000-4000-8000-000000000000."
    }

    def to_internal_value(self, data: object) -> uuid.UUID:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class EventSerializer(StrictSerializer):
    """An event: who did what, when, with what details."""

    name = TextField(
        trim_whitespace=False,
        max_length=event_rules.MAX_NAME,
        help_text="1 to 128 letters, digits, '_', '.', '-', ':' or spaces, starting with a "
        "letter or digit and not ending with a space, such as product_on_sale.",
    )
    user_ids = serializers.ListField(
        child=TextField(max_length=event_rules.MAX_USER_ID),
        required=False,
        max_length=event_rules.MAX_IDS,
        help_text="Every active device mapped to one of these users gets the event.",
    )
    install_ids = serializers.ListField(
        child=InstallIdField(),
        required=False,
        max_length=event_rules.MAX_IDS,
        help_text="These installs get the event, if active.",
    )
    properties = serializers.DictField(
        required=False,
        help_text="Details for the journeys' messages, read as {{ event.<key> }}: a JSON object "
        "of at most 4096 bytes, keys of 1 to 64 characters.",
    )
    timestamp = serializers.DateTimeField(
        required=False,
        help_text="When it happened (ISO 8601; UTC without an offset); now if left out. At most "
        "5 minutes in the future.",
    )

    def validate_name(self, value: str) -> str:
        return _keep(event_rules.check_name, value)

    def validate_properties(self, value: dict) -> dict:
        return _keep(event_rules.check_properties, value)

    def validate_timestamp(self, value: datetime) -> datetime:
        return _keep(event_rules.check_occurred_at, value)

    def validate(self, data: dict) -> dict:
        if not data.get("user_ids") and not data.get("install_ids"):
            raise serializers.ValidationError(
                {"user_ids": ["Name someone: user_ids or install_ids must not be empty."]},
                code="required",
            )
        return data


def _keep(check: object, value: object) -> object:
    try:
        return check(value)
    except event_rules.RuleError as error:
        raise serializers.ValidationError(str(error)) from None


class EventRecordedSerializer(serializers.Serializer):
    name = serializers.CharField()
    devices = serializers.IntegerField(help_text="Devices the event was recorded for.")
    enrolled = serializers.IntegerField(help_text="Devices that entered a journey.")


class EventView(APIView):
    @extend_schema(
        operation_id="Events_Record",
        summary="Report that people did something; their devices enter its journeys",
        description="The event is stored once per active device of the named users and "
        "installs (ids matching none are ignored) and enrols those devices in the app's active "
        "journeys that this event starts. A refused request stores nothing.",
        request=EventSerializer,
        responses={202: EventRecordedSerializer},
        examples=[EVENT_EXAMPLE],
    )
    def post(self, request: Request, app_id: str) -> Response:
        app = app_of(request, app_id)
        body = EventSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        recorded = events.record(
            app,
            data["name"],
            user_ids=data.get("user_ids", []),
            install_ids=data.get("install_ids", []),
            properties=data.get("properties"),
            occurred_at=data.get("timestamp"),
        )
        answer = {"name": data["name"], "devices": recorded.devices, "enrolled": recorded.enrolled}
        return Response(answer, status=status.HTTP_202_ACCEPTED)


@extend_schema_serializer(component_name="SegmentCall")
class SegmentComCallSerializer(serializers.Serializer):
    """The fields of a Segment call that Push Center reads; the others are ignored."""

    type = serializers.CharField(help_text="track, identify; page, screen, group, alias ignored.")
    event = serializers.CharField(required=False, help_text="track: the event's name.")
    userId = serializers.CharField(required=False)
    anonymousId = serializers.CharField(required=False)
    messageId = serializers.CharField(required=False, help_text="Handled once in 24 hours.")
    properties = serializers.DictField(required=False, help_text="track: the event's details.")
    traits = serializers.DictField(required=False, help_text="identify: custom properties.")
    timestamp = serializers.DateTimeField(required=False)
    context = serializers.DictField(required=False, help_text="context.device.id: an install.")


@extend_schema_serializer(component_name="SegmentAnswer")
class SegmentComAnswerSerializer(serializers.Serializer):
    type = serializers.CharField(required=False)
    name = serializers.CharField(required=False, help_text="track: the event's name.")
    devices = serializers.IntegerField(required=False, help_text="Devices the call reached.")
    enrolled = serializers.IntegerField(required=False, help_text="track: journey entries.")
    merged = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="identify: traits stored."
    )
    skipped = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="identify: each trait not stored, and why.",
    )
    ignored = serializers.CharField(required=False, help_text="The type of a call not used.")
    replayed = serializers.CharField(
        required=False, help_text="The messageId of a call already handled in the last 24 hours."
    )


class SegmentComWebhookView(APIView):
    """Segment.com's Webhooks destination: the shared secret's signature stands for a token.

    The schema's names and wording for it (Segment_Webhook, SegmentCall, SegmentAnswer) stay
    as published.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="Segment_Webhook",
        summary="Receive a call from Segment's Webhooks destination",
        description="X-Signature must be the hexadecimal HMAC-SHA1 of the body under the "
        "shared secret set on the app's page; no API token. track records an event as "
        "Events_Record does; identify merges the traits into the custom properties of the "
        "person's devices; other types answer 200 and are ignored. The person is the userId "
        "or, without one, the installs whose id is context.device.id or anonymousId. A "
        "messageId already handled for the app in the last 24 hours answers 200 with replayed "
        "and changes nothing.",
        request=SegmentComCallSerializer,
        parameters=[
            OpenApiParameter(
                segment_com.SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                description="hex(HMAC-SHA1(shared secret, body)), as Segment sends it.",
            )
        ],
        responses={
            200: SegmentComAnswerSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
        examples=SEGMENT_COM_EXAMPLES,
    )
    @sensitive_variables("secret")
    def post(self, request: Request, app_id: str) -> Response:
        app = _app_by_application_id(app_id)
        secret = SegmentComSource.of(app).read_secret()
        if secret is None:
            raise exceptions.PermissionDenied(
                "Segment is not set up for this app: set its shared secret on the app's page."
            )
        try:
            segment_com.verify(
                secret, request.body, request.headers.get(segment_com.SIGNATURE_HEADER)
            )
        except segment_com.BadSignature as error:
            raise exceptions.AuthenticationFailed(str(error)) from None
        try:
            return Response(segment_com.handle(app, request.body))
        except segment_com.CallError as error:
            detail = {error.field: [str(error)]} if error.field else [str(error)]
            raise exceptions.ValidationError(detail) from None

    def get_authenticate_header(self, request: Request) -> str:
        return segment_com.SIGNATURE_HEADER


def _app_by_application_id(application_id: str) -> MobileApp:
    """Find the app the path names by its Application ID."""
    try:
        app = MobileApp.objects.filter(application_id=uuid.UUID(application_id)).first()
    except ValueError:
        app = None
    if app is None:
        raise exceptions.NotFound("No app has this Application ID.")
    return app

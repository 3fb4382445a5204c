"""App Center's audiences API: segments by name, with the seed's bodies."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.authentication import app_named
from devices.models import PROPERTY_TYPES
from devices.serializers import StrictSerializer, TextField
from segments import services
from segments.models import Segment, segment_name_validator


class AudienceBodySerializer(StrictSerializer):
    definition = TextField(
        max_length=4000,
        help_text="The audience language, as the README's Segments section describes: "
        "comparisons of device properties (carrierCountry eq 'US') and of what people did, "
        "from the app's events: did('purchase', within 30d, count ge 2, where amount ge 20). "
        "A did(...) needs a window of 1m to 365d ending when the audience is counted or sent; "
        "count takes eq, ne, lt, gt, le or ge and 0 to 10,000 (at least once if left out); "
        "where compares the event's properties with a text, a number or true/false; at most 10 "
        "did(...) a definition.",
    )
    description = TextField(required=False, allow_blank=True, max_length=1000)
    custom_properties = serializers.DictField(
        child=serializers.ChoiceField(choices=PROPERTY_TYPES), required=False
    )


class AudienceSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    definition = serializers.CharField()
    custom_properties = serializers.DictField(child=serializers.CharField())
    estimated_count = serializers.IntegerField(
        allow_null=True, help_text="null when the definition cannot be evaluated (see error)."
    )
    state = serializers.CharField(help_text="Calculated, or Failed with an error.")
    error = serializers.CharField(
        required=False, help_text="Push Center: why a stored definition cannot be evaluated."
    )
    timestamp = serializers.DateTimeField()


class AudienceListSerializer(serializers.Serializer):
    values = AudienceSerializer(many=True)


def audience_json(segment: Segment) -> dict[str, object]:
    """Describe an audience; one stored before a rule it breaks says why instead of counting."""
    count, error = services.count_members(segment)
    answer = {
        "name": segment.name,
        "description": segment.description,
        "definition": segment.definition,
        "custom_properties": segment.custom_property_types,
        "estimated_count": count,
        "state": "Failed" if error else "Calculated",
        "timestamp": serializers.DateTimeField().to_representation(segment.updated_at),
    }
    return {**answer, "error": error} if error else answer


def find_segment(app: object, audience_name: str) -> Segment:
    segment = Segment.objects.filter(app=app, name=audience_name).select_related("app").first()
    if segment is None:
        raise exceptions.NotFound("No audience with this name in this app.")
    return segment


SEED_EXAMPLES = [
    OpenApiExample(
        "Country",
        request_only=True,
        value={"definition": "carrierCountry eq 'US'", "description": "Users in the United States"},
    ),
    OpenApiExample(
        "Custom properties",
        request_only=True,
        value={
            "definition": "dog-lover eq true and dog-breed eq 'Golden Retriever'",
            "custom_properties": {"dog-lover": "boolean", "dog-breed": "string"},
        },
    ),
    OpenApiExample(
        "Behaviour",
        request_only=True,
        value={
            "definition": "did('purchase', within 30d, count ge 2, where currency eq 'EUR') "
            "and not did('app_open', within 7d)",
            "description": "Repeat buyers in euros who have not opened the app this week",
        },
    ),
]


class AudienceView(APIView):
    @extend_schema(
        summary="Read an audience with its estimated count", responses=AudienceSerializer
    )
    def get(self, request: Request, owner_name: str, app_name: str, audience_name: str) -> Response:
        app = app_named(request, owner_name, app_name)
        return Response(audience_json(find_segment(app, audience_name)))

    @extend_schema(
        summary="Create or replace an audience",
        request=AudienceBodySerializer,
        responses={200: AudienceSerializer, 201: AudienceSerializer},
        examples=SEED_EXAMPLES,
    )
    def put(self, request: Request, owner_name: str, app_name: str, audience_name: str) -> Response:
        app = app_named(request, owner_name, app_name)
        body = AudienceBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            segment_name_validator(audience_name)
            segment, created = services.save_segment(
                app,
                audience_name,
                definition=data["definition"],
                description=data.get("description", ""),
                declared=data.get("custom_properties", {}),
            )
        except ValidationError as error:
            raise exceptions.ValidationError(_api_field_names(error)) from None
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(audience_json(segment), status=code)

    @extend_schema(summary="Delete an audience", responses={204: None})
    def delete(
        self, request: Request, owner_name: str, app_name: str, audience_name: str
    ) -> Response:
        segment = find_segment(app_named(request, owner_name, app_name), audience_name)
        try:
            segment.delete()
        except ProtectedError as error:
            # Who keeps it is an app built on segments (a journey it triggers, say): named by
            # its model, so segments need not know them.
            users = sorted(f"the {o._meta.verbose_name} {o}" for o in error.protected_objects)
            raise AudienceInUse(
                f"This audience is in use by {', '.join(users)}; change or remove that first."
            ) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class AudienceInUse(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "in_use"


def _api_field_names(error: ValidationError) -> dict[str, list[str]]:
    """Name fields as the API body does: custom_property_types is custom_properties there."""
    if not hasattr(error, "message_dict"):
        return {"audience_name": error.messages}
    renamed = {"custom_property_types": "custom_properties", "name": "audience_name"}
    return {renamed.get(k, k): v for k, v in error.message_dict.items()}


class AudienceListView(APIView):
    @extend_schema(
        summary="List the app's audiences with estimated counts", responses=AudienceListSerializer
    )
    def get(self, request: Request, owner_name: str, app_name: str) -> Response:
        app = app_named(request, owner_name, app_name)
        segments = Segment.objects.filter(app=app).select_related("app")
        return Response({"values": [audience_json(s) for s in segments]})

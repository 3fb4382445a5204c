"""The webhooks API: an app's endpoints (create, read, change, delete, rotate the secret, send a
test event) and its dead letters (list, replay), with the app's server token."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from devices import delivery_events
from devices.api import IdCursor
from devices.authentication import app_of
from devices.models import MobileApp
from devices.serializers import StrictBooleanField, StrictSerializer, TextField
from webhooks import services
from webhooks.models import MAX_URL_LENGTH, Batch, Endpoint

MAX_LISTED = 100  # dead letters replayed by id in one call
ENDPOINT_EXAMPLE = OpenApiExample(
    "Sent and failed deliveries to the CRM",
    request_only=True,
    value={
        "url": "https://hooks.contoso.com/push-center",
        "events": ["sent", "failed"],
        "description": "CRM",
    },
)


class EndpointWriteSerializer(StrictSerializer):
    url = TextField(
        max_length=MAX_URL_LENGTH,
        help_text="https only; no user or password; its host must resolve to public addresses.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=delivery_events.KINDS),
        max_length=len(delivery_events.KINDS),
        min_length=1,
        help_text="The kinds of events it receives.",
    )
    description = TextField(max_length=services.MAX_DESCRIPTION, required=False, allow_blank=True)
    enabled = StrictBooleanField(required=False, help_text="On by default.")


class EndpointChangeSerializer(EndpointWriteSerializer):
    url = TextField(max_length=MAX_URL_LENGTH, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=delivery_events.KINDS),
        max_length=len(delivery_events.KINDS),
        min_length=1,
        required=False,
    )


class EndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField(), source="kinds")
    description = serializers.CharField()
    enabled = serializers.BooleanField()
    paused_at = serializers.DateTimeField(allow_null=True, help_text="Set after many failures.")
    paused_reason = serializers.CharField()
    secret_set_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(help_text="The signing secret: shown in this answer only.")


class BatchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    endpoint_id = serializers.IntegerField()
    status = serializers.CharField(help_text="pending, sending, delivered or dead.")
    event_count = serializers.IntegerField()
    attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was delivered or given up on."
    )


class ReplaySerializer(StrictSerializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=MAX_LISTED,
        help_text="The dead letters to send again; leave out to send every one of the app's.",
    )


class DeadLetterCursor(IdCursor):
    ordering = "-id"


class DeadLetterQuerySerializer(StrictSerializer):
    cursor = TextField(required=False)
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=DeadLetterCursor.max_page_size
    )


class DeadLetterPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last.")
    previous = serializers.URLField(allow_null=True)
    results = BatchSerializer(many=True)


class ReplayedSerializer(serializers.Serializer):
    replayed = serializers.IntegerField()


def _checked(call: object, *args: object, **kwargs: object) -> object:
    """Run a service call, turning its ValidationError into the API's 400 naming the field."""
    try:
        return call(*args, **kwargs)
    except DjangoValidationError as error:
        raise exceptions.ValidationError(error.message_dict) from None


def _endpoint(app: MobileApp, endpoint_id: str) -> Endpoint:
    found = None
    if endpoint_id.isdigit() and len(endpoint_id) < 19:
        found = Endpoint.objects.filter(app=app, pk=int(endpoint_id)).first()
    if found is None:
        raise exceptions.NotFound("No such webhook endpoint for this app.")
    return found


ENDPOINT_ID = OpenApiParameter("endpoint_id", int, OpenApiParameter.PATH)


class EndpointListView(APIView):
    @extend_schema(
        operation_id="Webhooks_List",
        summary="List the app's webhook endpoints",
        responses={200: EndpointSerializer(many=True)},
    )
    def get(self, request: Request, app_id: str) -> Response:
        app = app_of(request, app_id)
        endpoints = Endpoint.objects.filter(app=app).order_by("pk")
        return Response(EndpointSerializer(endpoints, many=True).data)

    @extend_schema(
        operation_id="Webhooks_Create",
        summary="Add a webhook endpoint; the answer carries its secret, this once",
        description=f"At most {services.MAX_ENDPOINTS_PER_APP} endpoints an app. Each POST to "
        "it carries a batch of events, signed: see the README's Webhooks section.",
        request=EndpointWriteSerializer,
        responses={201: EndpointWithSecretSerializer},
        examples=[ENDPOINT_EXAMPLE],
    )
    def post(self, request: Request, app_id: str) -> Response:
        app = app_of(request, app_id)
        body = EndpointWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        endpoint, secret = _checked(
            services.create_endpoint,
            app,
            data["url"],
            data["events"],
            data.get("description", ""),
            data.get("enabled", True),
        )
        answer = {**EndpointSerializer(endpoint).data, "secret": secret}
        return Response(answer, status=status.HTTP_201_CREATED)


class EndpointView(APIView):
    @extend_schema(
        operation_id="Webhooks_Get",
        summary="Read a webhook endpoint (never its secret)",
        parameters=[ENDPOINT_ID],
        responses={200: EndpointSerializer},
    )
    def get(self, request: Request, app_id: str, endpoint_id: str) -> Response:
        endpoint = _endpoint(app_of(request, app_id), endpoint_id)
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="Webhooks_Change",
        summary="Change a webhook endpoint's URL, events, description or enabled flag",
        description="Enabling a paused endpoint resumes it.",
        parameters=[ENDPOINT_ID],
        request=EndpointChangeSerializer,
        responses={200: EndpointSerializer},
    )
    def patch(self, request: Request, app_id: str, endpoint_id: str) -> Response:
        endpoint = _endpoint(app_of(request, app_id), endpoint_id)
        body = EndpointChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        if "events" in changes:
            changes["kinds"] = changes.pop("events")
        _checked(services.change_endpoint, endpoint, **changes)
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="Webhooks_Delete",
        summary="Remove a webhook endpoint, its events and batches",
        parameters=[ENDPOINT_ID],
        responses={204: None},
    )
    def delete(self, request: Request, app_id: str, endpoint_id: str) -> Response:
        services.delete_endpoint(_endpoint(app_of(request, app_id), endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RotateSecretView(APIView):
    @extend_schema(
        operation_id="Webhooks_RotateSecret",
        summary="Give the endpoint a new secret; the old one still signs for a day",
        parameters=[ENDPOINT_ID],
        request=None,
        responses={200: EndpointWithSecretSerializer},
    )
    def post(self, request: Request, app_id: str, endpoint_id: str) -> Response:
        endpoint = _endpoint(app_of(request, app_id), endpoint_id)
        secret = services.rotate_secret(endpoint)
        return Response({**EndpointSerializer(endpoint).data, "secret": secret})


class TestEventView(APIView):
    @extend_schema(
        operation_id="Webhooks_SendTest",
        summary="Queue a test event to the endpoint",
        description="A batch of one event of kind test, posted with the next dispatch.",
        parameters=[ENDPOINT_ID],
        request=None,
        responses={202: BatchSerializer},
    )
    def post(self, request: Request, app_id: str, endpoint_id: str) -> Response:
        batch = services.send_test_event(_endpoint(app_of(request, app_id), endpoint_id))
        return Response(BatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


class DeadLetterListView(APIView):
    @extend_schema(
        operation_id="Webhooks_DeadLetters",
        summary="List the app's dead letters: batches given up on, newest first, by pages",
        description="100 a page unless `limit` says (at most 1,000); `next` links the next page.",
        parameters=[DeadLetterQuerySerializer],
        responses={200: DeadLetterPageSerializer},
    )
    def get(self, request: Request, app_id: str) -> Response:
        app = app_of(request, app_id)
        DeadLetterQuerySerializer(data=request.query_params.dict()).is_valid(raise_exception=True)
        paginator = DeadLetterCursor()
        page = paginator.paginate_queryset(services.dead_letters(app), request, view=self)
        return paginator.get_paginated_response(BatchSerializer(page, many=True).data)


class ReplayView(APIView):
    @extend_schema(
        operation_id="Webhooks_Replay",
        summary="Send dead letters again, from the first try",
        description="Names no ids: every dead letter of the app. Ids of other apps' batches or "
        "of batches that are not dead letters are ignored.",
        request=ReplaySerializer,
        responses={200: ReplayedSerializer},
    )
    def post(self, request: Request, app_id: str) -> Response:
        app = app_of(request, app_id)
        body = ReplaySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        batches: QuerySet[Batch] = services.dead_letters(app)
        if "ids" in body.validated_data:
            batches = batches.filter(pk__in=body.validated_data["ids"])
        return Response({"replayed": services.replay(batches)})

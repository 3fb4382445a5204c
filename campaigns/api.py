"""The Push API (App Center's door, with the seed's bodies) and the launch-tracking API."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlencode

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Count
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import api_content, idempotency, launches, services, statistics
from campaigns.api_serializers import (
    TARGET_LISTS,
    LaunchBodySerializer,
    LaunchSerializer,
    NotificationDetailsSerializer,
    NotificationIdSerializer,
    NotificationListSerializer,
    NotificationSendSerializer,
)
from campaigns.forms import NotificationForm
from campaigns.models import (
    ConversionStart,
    Delivery,
    DeliveryStatus,
    Notification,
    Status,
    TargetKind,
)
from devices.authentication import app_named, app_of
from devices.models import MobileApp
from pushcenter.api_schema import ErrorSerializer
from pushcenter.request_limits import JSON_STRING, BoundedJSONParser
from segments.models import Segment

IDEMPOTENCY_HEADER = "Idempotency-Key"
STRING_OR_TRAILING_COMMA = re.compile(rf"({JSON_STRING.pattern})|,(?=\s*[}}\]])", re.DOTALL)
NUMBER = re.compile(r"[0-9]{1,18}")
PAGE_SIZE, MAX_PAGE_SIZE = 30, 100
STATES = {
    Status.DRAFT: "Draft",
    Status.SCHEDULED: "Queued",
    Status.SENDING: "Sending",
    Status.COMPLETED: "Completed",
    Status.CANCELLED: "Cancelled",
    Status.EXPIRED: "Expired",
    Status.AUTOMATED: "Automated",  # sent one person at a time, as its owning app triggers it
}
FAILURES = (DeliveryStatus.FAILED, DeliveryStatus.CHANNEL_EXPIRED)
OUTCOMES = (*FAILURES, DeliveryStatus.UNKNOWN, DeliveryStatus.EXPIRED)
TARGET_KINDS = {
    "audiences_target": TargetKind.SEGMENTS,
    "devices_target": TargetKind.INSTALL_IDS,
    "user_ids_target": TargetKind.USER_IDS,
    "account_ids_target": TargetKind.ACCOUNT_IDS,
}
# Where the composer's form fields are in the API body.
API_FIELDS = {
    **api_content.API_FIELDS,
    "segments": "notification_target.audiences",
    "install_ids": "notification_target.devices",
    "user_ids": "notification_target.user_ids",
    "account_ids": "notification_target.account_ids",
    "send_at": "send_time",
    "expires_at": "expires_at",
    "kind": "kind",
    "conversion_event": "conversion.event",
    "conversion_window_minutes": "conversion.window_minutes",
    "conversion_starts": "conversion.starts",
    "conversion_value_property": "conversion.value_property",
}
CONTENT = {
    "name": "First Push From App Center",
    "title": "Push From App Center",
    "body": "Hello! Isn't this an amazing notification message?",
    "custom_data": {"key1": "val1", "key2": "val2"},
}
SEND_EXAMPLES = [
    OpenApiExample("Broadcast", request_only=True, value={"notification_content": CONTENT}),
    OpenApiExample(
        "Audiences",
        request_only=True,
        value={
            "notification_content": CONTENT,
            "notification_target": {"type": "audiences_target", "audiences": ["dog-lovers"]},
        },
    ),
    OpenApiExample(
        "Devices",
        request_only=True,
        value={
            "notification_content": CONTENT,
            "notification_target": {
                "type": "devices_target",
                "devices": ["00000000-0000-0000-0000-000000000001"],
            },
        },
    ),
    OpenApiExample(
        "Users, scheduled, expiring",
        request_only=True,
        value={
            "notification_content": CONTENT,
            "notification_target": {"type": "user_ids_target", "user_ids": ["anna@contoso.com"]},
            "send_time": "2030-06-01T08:00:00Z",
            "expires_at": "2030-06-02T08:00:00Z",
            "track_launches": False,
        },
    ),
    OpenApiExample(
        "Marketing, held to the caps and quiet hours",
        request_only=True,
        value={"notification_content": CONTENT, "kind": "marketing"},
    ),
    OpenApiExample(
        "Accounts",
        request_only=True,
        value={
            "notification_content": CONTENT,
            "notification_target": {"type": "account_ids_target", "account_ids": ["family-7"]},
        },
    ),
    OpenApiExample(
        "Rich, in two languages",
        request_only=True,
        value={
            "notification_content": {
                **CONTENT,
                "subtitle": "This weekend only",
                "image_url": "https://cdn.contoso.com/crossover.png",
                "url": "https://contoso.com/events/crossover",
                "sound": "default",
                "badge": 1,
                "category": "EVENT_INVITE",
                "thread_id": "events",
                "interruption_level": "time-sensitive",
                "relevance_score": 0.9,
                "collapse_id": "crossover",
                "android_channel": "events",
                "languages": {"fr": {"title": "Événement ce week-end", "body": "Venez !"}},
            }
        },
    ),
    OpenApiExample(
        "Silent (data only)",
        request_only=True,
        value={
            "notification_content": {
                "name": "Refresh the catalogue",
                "silent": True,
                "custom_data": {"sync": "catalogue"},
            }
        },
    ),
    OpenApiExample(
        "Badge only",
        request_only=True,
        value={"notification_content": {"name": "Unread count", "template": "badge", "badge": 3}},
    ),
]


class LenientJSONParser(BoundedJSONParser):
    """JSON that may have a comma before a closing bracket, as one of App Center's samples has."""

    def prepare(self, text: str) -> str:
        return without_trailing_commas(text)


def without_trailing_commas(text: str) -> str:
    """Drop each comma that only whitespace separates from a closing } or ], outside strings."""
    # Strings are matched whole and kept (group 1); a trailing comma matches with no group 1.
    return STRING_OR_TRAILING_COMMA.sub(lambda match: match[1] or "", text)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"


# Sending


def create_notification(app: MobileApp, body: object) -> Notification:
    """Check a send request as the composer does and queue it; a refused one stores nothing."""
    request = NotificationSendSerializer(data=body)
    request.is_valid(raise_exception=True)
    data = request.validated_data
    if not app.platforms():
        raise exceptions.ValidationError(
            {"non_field_errors": [f"{app} has no provider credentials; add them on its page."]}
        )
    form = NotificationForm(form_data(app, data))
    if not form.is_valid():
        raise exceptions.ValidationError(api_errors(form))
    with transaction.atomic():
        notification = form.save(commit=False)
        services.save(notification, schedule=True)
        form.save_m2m()
    return notification


def form_data(app: MobileApp, data: dict) -> dict:
    """Fill the composer's form from the API body, on the app's platforms."""
    content = api_content.form_content(app, data["notification_content"])
    target = data.get("notification_target") or {}
    lists = {name: target.get(name, []) for name in TARGET_LISTS.values()}
    # A template's own target (devices below the latest version) holds when the body names none.
    untargeted = content.get("target_kind", TargetKind.EVERYONE)
    return {
        **content,
        "app": app.pk,
        "target_kind": TARGET_KINDS.get(target.get("type"), untargeted),
        "segments": [segment.pk for segment in audiences(app, lists["audiences"])],
        "install_ids": "\n".join(str(install) for install in lists["devices"]),
        "user_ids": "\n".join(lists["user_ids"]),
        "account_ids": "\n".join(lists["account_ids"]),
        "schedule_kind": "at" if "send_time" in data else "now",
        "send_at": data.get("send_time"),
        "expires_at": data.get("expires_at"),
        "never_expires": "expires_at" not in data,
        "track_launches": data["track_launches"],
        "kind": data["kind"],
        **conversion_fields(data.get("conversion")),
    }


def conversion_fields(goal: dict | None) -> dict:
    """The composer's conversion goal fields from the API body's conversion object."""
    goal = goal or {"event": "", "window_minutes": 24 * 60, "starts": ConversionStart.SENT}
    return {
        "conversion_event": goal["event"],
        "conversion_window_minutes": goal["window_minutes"],
        "conversion_starts": goal["starts"],
        "conversion_value_property": goal.get("value_property", ""),
    }


def conversion_json(notification: Notification) -> dict | None:
    if not notification.conversion_event:
        return None
    return {
        "event": notification.conversion_event,
        "window_minutes": notification.conversion_window_minutes,
        "starts": notification.conversion_starts,
        "value_property": notification.conversion_value_property,
    }


def audiences(app: MobileApp, names: list[str]) -> list[Segment]:
    """Return the app's segments with these audience names; an unknown name is refused."""
    found = {s.name: s for s in Segment.objects.filter(app=app, name__in=names)}
    for name in names:
        if name not in found:
            raise exceptions.ValidationError(
                {"notification_target.audiences": [f"No audience named {name!r} in this app."]}
            )
    return list(found.values())


def api_errors(form: NotificationForm) -> dict[str, list[str]]:
    """Name the form's errors by the API body's fields."""
    errors: dict[str, list[str]] = {}
    for name, messages in form.errors.items():
        errors.setdefault(API_FIELDS.get(name, "non_field_errors"), []).extend(messages)
    return errors


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not (0 < len(key) <= 255 and key.isascii() and key.isprintable()):
        raise exceptions.ValidationError(
            {IDEMPOTENCY_HEADER: ["Use 1 to 255 printable ASCII characters."]}
        )
    return key


def send(app: MobileApp, request: Request) -> tuple[Notification, bool]:
    """Create the request's notification, or return the one its Idempotency-Key created."""
    key = idempotency_key(request)
    if key is None:
        return create_notification(app, request.data), True
    try:
        return idempotency.create_once(
            app, key, request.data, lambda: create_notification(app, request.data)
        )
    except idempotency.KeyReused as error:
        raise KeyReused({IDEMPOTENCY_HEADER: [str(error)]}) from None


# Reading


def find_notification(app: MobileApp, notification_id: str) -> Notification:
    found = None
    if NUMBER.fullmatch(notification_id):
        found = Notification.objects.filter(app=app, pk=int(notification_id)).first()
    if found is None:
        raise exceptions.NotFound("No notification with this id in this app.")
    return found


def target_json(notification: Notification) -> dict | None:
    kind = notification.target_kind
    if kind == TargetKind.SEGMENTS:
        names = sorted(s.name for s in notification.segments.all())
        return {"type": "audiences_target", "audiences": names}
    if kind == TargetKind.INSTALL_IDS:
        return {"type": "devices_target", "devices": notification.install_ids}
    if kind == TargetKind.USER_IDS:
        return {"type": "user_ids_target", "user_ids": notification.user_ids}
    if kind == TargetKind.ACCOUNT_IDS:
        return {"type": "account_ids_target", "account_ids": notification.account_ids}
    if kind == TargetKind.OUTDATED:
        return {"type": "outdated_target"}
    return None


def overview_json(notification: Notification, counts: Counter) -> dict:
    when = serializers.DateTimeField()
    return {
        "notification_id": str(notification.pk),
        "name": notification.name,
        "notification_target": target_json(notification),
        "send_time": notification.send_at and when.to_representation(notification.send_at),
        "expires_at": notification.expires_at and when.to_representation(notification.expires_at),
        "state": STATES[notification.status],
        "pns_send_success": counts[DeliveryStatus.SENT],
        "pns_send_failure": sum(counts[s] for s in FAILURES),
    }


def details_json(notification: Notification) -> dict:
    summary = statistics.summary(notification)
    counts = Counter({status: summary[status] for status in (DeliveryStatus.SENT, *OUTCOMES)})
    return {
        **overview_json(notification, counts),
        "notification_content": api_content.content_json(notification),
        "track_launches": notification.track_launches,
        "kind": notification.kind,
        "conversion": conversion_json(notification),
        "failure_outcomes": [
            {"failure_outcome": DeliveryStatus(s).label, "count": counts[s]}
            for s in OUTCOMES
            if counts[s]
        ],
        "statistics": summary,
    }


def counts_by_notification(notifications: list[Notification]) -> dict[int, Counter]:
    rows = (
        Delivery.objects.filter(notification__in=notifications)
        .values_list("notification_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[int, Counter] = {n.pk: Counter() for n in notifications}
    for notification_id, delivery_status, n in rows:
        counts[notification_id][delivery_status] = n
    return counts


def page_parameter(request: Request, name: str, default: int | None, largest: int) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return default
    if not NUMBER.fullmatch(value) or not 0 < int(value) <= largest:
        raise exceptions.ValidationError({name: [f"Must be a whole number from 1 to {largest}."]})
    return int(value)


LIST_PARAMETERS = [
    OpenApiParameter(
        "$top",
        int,
        description=f"Notifications a page: 1 to {MAX_PAGE_SIZE}, {PAGE_SIZE} by default.",
    ),
    OpenApiParameter("$skiptoken", str, description="Where the page starts: from nextLink."),
]


class PushNotificationListView(APIView):
    parser_classes = [LenientJSONParser]

    @extend_schema(
        operation_id="Push_List",
        summary="List the app's notifications, newest first, with their state and counts",
        parameters=LIST_PARAMETERS,
        responses=NotificationListSerializer,
    )
    def get(self, request: Request, owner_name: str, app_name: str) -> Response:
        app = app_named(request, owner_name, app_name)
        top = page_parameter(request, "$top", PAGE_SIZE, MAX_PAGE_SIZE)
        start = page_parameter(request, "$skiptoken", None, 2**63 - 1)
        everything = Notification.objects.filter(app=app)
        page = everything.filter(pk__lte=start) if start else everything
        rows = list(page.order_by("-pk").prefetch_related("segments")[: top + 1])
        counts = counts_by_notification(rows[:top])
        more = {"$top": top, "$skiptoken": rows[top].pk} if len(rows) > top else None
        return Response(
            {
                "values": [overview_json(n, counts[n.pk]) for n in rows[:top]],
                "total": everything.count(),
                "nextLink": more and request.build_absolute_uri(f"?{urlencode(more)}"),
            }
        )

    @extend_schema(
        operation_id="Push_Send",
        summary="Send a notification (App Center's Push_Send)",
        description="The target is null or absent (every device), audiences_target, "
        "devices_target, user_ids_target or account_ids_target. notification_content takes "
        "everything the dashboard's composer sets: rich options, per-language texts, a "
        "template, silent (data-only) and badge-only pushes; each is checked as the composer "
        "checks it, and a refusal names the body's field. Push Center adds send_time, "
        "expires_at and "
        "track_launches, conversion (a conversion goal: event, window_minutes, starts, "
        "value_property), kind (transactional by default: past the app's frequency caps and "
        "quiet hours; marketing: held to them) and an Idempotency-Key header: a retry with the "
        "same key and body answers the first request's notification for 24 hours and sends "
        "nothing.",
        request=NotificationSendSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                str,
                OpenApiParameter.HEADER,
                description="Any unique string; a retried POST with it never sends twice.",
            )
        ],
        responses={202: NotificationIdSerializer, 422: ErrorSerializer},
        examples=SEND_EXAMPLES,
    )
    def post(self, request: Request, owner_name: str, app_name: str) -> Response:
        notification, created = send(app_named(request, owner_name, app_name), request)
        headers = {} if created else {"Idempotent-Replayed": "true"}
        return Response(
            {"notification_id": str(notification.pk)},
            status=status.HTTP_202_ACCEPTED,
            headers=headers,
        )


class PushNotificationView(APIView):
    @extend_schema(
        operation_id="Push_Get",
        summary="Read a notification with its delivery and launch statistics",
        responses=NotificationDetailsSerializer,
    )
    def get(
        self, request: Request, owner_name: str, app_name: str, notification_id: str
    ) -> Response:
        app = app_named(request, owner_name, app_name)
        return Response(details_json(find_notification(app, notification_id)))

    @extend_schema(
        operation_id="Push_Delete",
        summary="Cancel a notification that has not started sending",
        responses={204: None, 409: ErrorSerializer},
    )
    def delete(
        self, request: Request, owner_name: str, app_name: str, notification_id: str
    ) -> Response:
        notification = find_notification(app_named(request, owner_name, app_name), notification_id)
        try:
            services.cancel(notification)
        except DjangoValidationError as error:
            raise Conflict(error.messages[0]) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


# Launch tracking


class LaunchView(APIView):
    client_key_methods = frozenset({"POST"})

    @extend_schema(
        operation_id="Launches_Record",
        summary="Report that a notification launched the app",
        description="tracking_id is what the payload carried (APNs: a key beside aps; FCM: "
        "data.tracking_id; WNS: tracking_id=… in the toast's launch arguments). One launch "
        "counts per delivery: a repeat answers 200 with new false and changes nothing.",
        request=LaunchBodySerializer,
        responses={200: LaunchSerializer, 201: LaunchSerializer},
        examples=[
            OpenApiExample(
                "A launch", request_only=True, value={"tracking_id": "1f4Zk3Q0b_Xr9a-LmW2"}
            )
        ],
    )
    def post(self, request: Request, app_id: str) -> Response:
        app = app_of(request, app_id)
        body = LaunchBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            launch = launches.record(app, body.validated_data["tracking_id"])
        except launches.UnknownTrackingId as error:
            raise exceptions.NotFound({"tracking_id": [str(error)]}) from None
        except launches.LaunchError as error:
            raise exceptions.ValidationError({"tracking_id": [str(error)]}) from None
        code = status.HTTP_201_CREATED if launch.new else status.HTTP_200_OK
        return Response(LaunchSerializer(launch).data, status=code)

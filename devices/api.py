"""The device-registration API: the app developer's door for devices and their users."""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from devices import registration, sending
from devices.authentication import app_by_ids, app_of
from devices.models import Device, DeviceStatus, MobileApp, Platform
from devices.providers import addresses
from devices.serializers import (
    DeviceRegistrationSerializer,
    DeviceSerializer,
    DeviceUserSerializer,
    StrictSerializer,
    TextField,
    device_json,
    normalize_locale,
    validated_registration,
)

REGISTRATION_EXAMPLE = OpenApiExample(
    "An iPhone",
    request_only=True,
    value={
        "platform": "ios",
        "push_token": "a3f1" * 16,
        "user_id": "andrew@contosoltd.com",
        "account_id": "contoso-family-7",
        "locale": "en-US",
        "time_zone": "Europe/Paris",
        "properties": {
            "appVersion": "2.10.1",
            "carrierCountry": "US",
            "deviceOsVersion": "17.2",
            "osApiLevel": 34,
            "model": "iPhone15,2",
            "oemName": "Apple",
            "screenSize": "1170x2532",
        },
        "custom_properties": {"dog-lover": True, "dog-breed": "Golden Retriever"},
        "push_enabled": True,
        "categories": ["offers", "news"],
    },
)
D365_EXAMPLES = [
    OpenApiExample(
        "iOS", request_only=True, value={"ApnsDeviceContract": {"ApnsToken": "b7" * 32}}
    ),
    OpenApiExample(
        "Android",
        request_only=True,
        value={"FcmDeviceContract": {"FcmToken": "dGVzdC10b2tlbjpBUEE5MWJIdW40"}},
    ),
    OpenApiExample(
        "Windows",
        request_only=True,
        value={
            "WnsDeviceContract": {"ChannelUri": "https://db5.notify.windows.com/?token=AwYAAAB"}
        },
    ),
]


class MobileAppSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="organization.name")
    app_name = serializers.CharField(source="name")
    organization_id = serializers.UUIDField(source="organization.organization_id")
    platforms = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = MobileApp
        fields = [
            "owner_name",
            "app_name",
            "display_name",
            "organization_id",
            "application_id",
            "platforms",
        ]


class MobileAppView(APIView):
    @extend_schema(summary="Read the app this token belongs to", responses=MobileAppSerializer)
    def get(self, request: Request, app_id: str) -> Response:
        return Response(MobileAppSerializer(app_of(request, app_id)).data)


class CredentialValidationSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=["ios", "android", "windows"])
    provider = serializers.CharField()
    valid = serializers.BooleanField()
    message = serializers.CharField()


class CredentialValidationView(APIView):
    @extend_schema(
        summary="Prove the app's provider credentials against APNs, FCM and WNS",
        description="Each credential is tried against its provider (APNs: a request refused "
        "only for its made-up device token; FCM: a validate_only message; WNS: obtaining a "
        "token). The result is stored and shown on the app page.",
        request=None,
        responses=CredentialValidationSerializer(many=True),
    )
    def post(self, request: Request, app_id: str) -> Response:
        results = sending.validate_credentials(app_of(request, app_id))
        return Response(CredentialValidationSerializer(results, many=True).data)


def parse_install_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise exceptions.ValidationError(
            {"install_id": ["Must be a UUID such as 00000000-0000-4000-8000-000000000000."]}
        ) from None


def find_device(app: MobileApp, install_id: str) -> Device:
    device = Device.objects.filter(app=app, install_id=parse_install_id(install_id)).first()
    if device is None:
        raise exceptions.NotFound("No device with this install_id in this app.")
    return device


def registered(device: Device, created: bool) -> Response:
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(device_json(device), status=code)


class DeviceView(APIView):
    # A client key registers, changes and unregisters its own install; reading a device back is
    # for servers, since a key taken from the app must not read the installs whose ids it guesses.
    client_key_methods = frozenset({"PUT", "PATCH", "DELETE"})

    @extend_schema(summary="Read a device", responses=DeviceSerializer)
    def get(self, request: Request, app_id: str, install_id: str) -> Response:
        device = find_device(app_of(request, app_id), install_id)
        return Response(device_json(device))

    @extend_schema(
        summary="Register a device (create or replace)",
        request=DeviceRegistrationSerializer,
        responses={200: DeviceSerializer, 201: DeviceSerializer},
        examples=[REGISTRATION_EXAMPLE],
    )
    def put(self, request: Request, app_id: str, install_id: str) -> Response:
        app = app_of(request, app_id)
        install = parse_install_id(install_id)
        device, created = registration.register_device(
            app, install, validated_registration(app, request.data)
        )
        return registered(device, created)

    @extend_schema(
        summary="Change some of a device's registration",
        description="Properties and custom properties merge by name (null removes a custom "
        "property); other fields replace.",
        request=DeviceRegistrationSerializer(partial=True),
        responses=DeviceSerializer,
        examples=[
            OpenApiExample(
                "Opt out",
                request_only=True,
                value={"push_enabled": False, "properties": {"appVersion": "2.11"}},
            )
        ],
    )
    def patch(self, request: Request, app_id: str, install_id: str) -> Response:
        app = app_of(request, app_id)
        device = find_device(app, install_id)
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError(
                {"non_field_errors": ["The body must be a JSON object."]}
            )
        merged = registration.merge_patch(registration.current_registration(device), request.data)
        device, _ = registration.register_device(
            app, device.install_id, validated_registration(app, merged)
        )
        return Response(device_json(device))

    @extend_schema(summary="Unregister a device (kept for metrics)", responses={204: None})
    def delete(self, request: Request, app_id: str, install_id: str) -> Response:
        registration.unregister_device(find_device(app_of(request, app_id), install_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceUserView(APIView):
    client_key_methods = frozenset({"PUT"})

    @extend_schema(
        summary="Map a device to a user, or clear it with null",
        request=DeviceUserSerializer,
        responses=DeviceSerializer,
        examples=[OpenApiExample("Map", request_only=True, value={"user_id": "crm-42"})],
    )
    def put(self, request: Request, app_id: str, install_id: str) -> Response:
        device = find_device(app_of(request, app_id), install_id)
        body = DeviceUserSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        device = registration.set_device_user(device, body.validated_data["user_id"])
        return Response(device_json(device))


CURSOR_POSITION = re.compile(r"^[0-9]{1,18}\Z")


class IdCursor(CursorPagination):
    """Pages of a list by id, at most 1,000 rows a page (`limit`), the next one at `next`."""

    ordering = "id"
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000

    def decode_cursor(self, request: Request) -> Cursor | None:
        """Read the cursor from `next`; anything else is a 400 naming `cursor`, never a 500."""
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise _invalid_cursor() from None
        # The position is a device id, which DRF hands to the query unchecked.
        if cursor and cursor.position is not None and not CURSOR_POSITION.match(cursor.position):
            raise _invalid_cursor()
        return cursor


def _invalid_cursor() -> exceptions.ValidationError:
    return exceptions.ValidationError(
        {"cursor": ["Not a cursor of this list: follow the `next` link as it is."]}
    )


LIST_FILTERS = {
    "platform": "platform",
    "status": "status",
    "user_id": "user_id",
    "account_id": "account_id",
    "locale": "locale",
    "language": "language",
    "carrier_country": "carrier_country",
    "app_version": "app_version",
}


class DeviceFilterSerializer(StrictSerializer):
    platform = serializers.ChoiceField(choices=Platform.choices, required=False)
    status = serializers.ChoiceField(choices=DeviceStatus.choices, required=False)
    user_id = TextField(required=False, max_length=256)
    account_id = TextField(required=False, max_length=256)
    locale = TextField(required=False, max_length=35)
    language = TextField(required=False, max_length=8)
    carrier_country = TextField(required=False, max_length=2)
    app_version = TextField(required=False, max_length=64)
    cursor = TextField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=IdCursor.max_page_size)

    def validate_locale(self, value: str) -> str:
        return normalize_locale(value)

    def validate_carrier_country(self, value: str) -> str:
        return value.upper()


class DevicePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last.")
    previous = serializers.URLField(allow_null=True)
    results = DeviceSerializer(many=True)


class DeviceListView(APIView):
    @extend_schema(
        summary="List devices, oldest registrations first, with filters and a cursor",
        parameters=[DeviceFilterSerializer],
        responses=DevicePageSerializer,
    )
    def get(self, request: Request, app_id: str) -> Response:
        app = app_of(request, app_id)
        filters = DeviceFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        devices = self.filtered(app, filters.validated_data)
        paginator = IdCursor()
        page = paginator.paginate_queryset(devices, request, view=self)
        return paginator.get_paginated_response([device_json(d) for d in page])

    @staticmethod
    def filtered(app: MobileApp, values: dict) -> QuerySet[Device]:
        conditions = {
            column: values[name] for name, column in LIST_FILTERS.items() if name in values
        }
        return Device.objects.filter(app=app, **conditions)


class ApnsContract(StrictSerializer):
    ApnsToken = TextField()


class FcmContract(StrictSerializer):
    FcmToken = TextField()


class WnsContract(StrictSerializer):
    ChannelUri = TextField()


class D365RegistrationSerializer(StrictSerializer):
    """Dynamics 365's device-registration body: one device contract and, optionally, ApiToken."""

    ApnsDeviceContract = ApnsContract(required=False)
    FcmDeviceContract = FcmContract(required=False)
    WnsDeviceContract = WnsContract(required=False)
    ApiToken = TextField(required=False)

    CONTRACTS = {
        "ApnsDeviceContract": (Platform.IOS, "ApnsToken", "push_token"),
        "FcmDeviceContract": (Platform.ANDROID, "FcmToken", "push_token"),
        "WnsDeviceContract": (Platform.WINDOWS, "ChannelUri", "channel_uri"),
    }

    def validate(self, data: dict) -> dict:
        given = [name for name in self.CONTRACTS if name in data]
        if len(given) != 1:
            raise serializers.ValidationError(
                {
                    "ApnsDeviceContract": [
                        "Send exactly one of ApnsDeviceContract, FcmDeviceContract "
                        "or WnsDeviceContract."
                    ]
                }
            )
        contract = given[0]
        platform, key, column = self.CONTRACTS[contract]
        data["platform"], data["address"] = platform, {column: self._address(contract, key, data)}
        return data

    def _address(self, contract: str, key: str, data: dict) -> str:
        value = data[contract][key]
        try:
            if key == "ApnsToken":
                return addresses.check_apns_token(value)
            if key == "FcmToken":
                return addresses.check_fcm_token(value)
            return addresses.check_channel_uri(value, settings.WNS_HOSTS)
        except addresses.AddressError as error:
            raise serializers.ValidationError({contract: {key: [f"The {key} {error}."]}}) from None


class D365DeviceView(APIView):
    # Dynamics 365's SDK ships its key inside the app and sends it as the body's ApiToken.
    client_key_methods = frozenset({"POST"})
    token_in_body = True

    @extend_schema(
        summary="Register a device as Dynamics 365 Marketing does",
        request=D365RegistrationSerializer,
        responses={200: DeviceSerializer, 201: DeviceSerializer},
        examples=D365_EXAMPLES,
    )
    def post(self, request: Request, org_id: str, app_id: str, user_id: str) -> Response:
        app = app_by_ids(request, org_id, app_id)
        body = D365RegistrationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        install_id, wanted = registration.d365_registration(
            app, data["platform"], data["address"], user_id
        )
        device, created = registration.register_device(
            app, install_id, validated_registration(app, wanted)
        )
        return registered(device, created)

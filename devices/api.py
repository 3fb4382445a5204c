"""The app's own API: what a token can read about the app it belongs to."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.authentication import app_of
from devices.models import MobileApp


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
    """Read the app this token belongs to."""

    def get(self, request: Request, app_id: str) -> Response:
        app = app_of(request, app_id)
        return Response(MobileAppSerializer(app).data)

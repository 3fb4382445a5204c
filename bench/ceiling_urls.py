"""One view that validates a registration and upserts its row with one raw SQL statement.

As bare Django runs it, unprepared; at /ceiling-prepared/ the same view prepares its statement,
as the project's registration does, for a like-for-like figure beside it.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

from django.db import connection
from django.urls import path
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.serializers import DeviceRegistrationSerializer
from pushcenter.sql import execute_prepared

UPSERT = """
INSERT INTO devices_device (app_id, install_id, platform, push_token, locale, language, time_zone,
    app_version, app_version_key, carrier_country, device_os_version, device_os_version_key,
    device_model, oem_name, screen_size, custom_properties, push_enabled, categories, status,
    first_seen, last_seen)
VALUES (%s, %s, %s, %s, %s, '', %s, '', '', '', '', '', '', '', '', %s, %s, %s, 'active', %s, %s)
ON CONFLICT (app_id, install_id) DO UPDATE SET push_token = excluded.push_token,
    last_seen = excluded.last_seen
"""


class CeilingView(APIView):
    prepared = False

    def put(self, request: Request, app_pk: int, install_id: str) -> Response:
        app = SimpleNamespace(custom_property_types={})
        body = DeviceRegistrationSerializer(data=request.data, context={"app": app})
        body.is_valid(raise_exception=True)
        data, now = body.validated_data, timezone.now()
        params = [
            app_pk,
            install_id,
            data["platform"],
            data.get("push_token"),
            data.get("locale", ""),
            data.get("time_zone", ""),
            json.dumps(data.get("custom_properties", {})),
            data.get("push_enabled", True),
            json.dumps(data.get("categories", [])),
            now,
            now,
        ]
        with connection.cursor() as cursor:
            if self.prepared:
                execute_prepared(cursor, UPSERT, params)
            else:
                cursor.execute(UPSERT, params)
        return Response(status=201)


urlpatterns = [
    path("ceiling/<int:app_pk>/<str:install_id>", CeilingView.as_view()),
    path("ceiling-prepared/<int:app_pk>/<str:install_id>", CeilingView.as_view(prepared=True)),
]

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from campaigns import api as campaigns_api
from pushcenter import api_errors, login, time_zones


class SchemaView(api_errors.JsonErrors, SpectacularAPIView):
    """The OpenAPI schema; its errors are JSON like the rest of the API."""


class SchemaDocsView(api_errors.JsonErrors, SpectacularSwaggerView):
    """The browsable docs (HTML); their errors are JSON like the rest of the API."""


push = "api/v0.1/apps/<str:owner_name>/<str:app_name>/push/notifications"
public = {"authentication_classes": [], "permission_classes": [AllowAny]}

urlpatterns = [
    path("api/schema/", SchemaView.as_view(**public), name="api-schema"),
    path(
        "api/docs/",
        SchemaDocsView.as_view(url_name="api-schema", **public),
        name="api-docs",
    ),
    path("api/", include("devices.api_urls")),
    path("api/", include("segments.api_urls")),
    path("api/", include("journeys.api_urls")),
    path("api/", include("webhooks.api_urls")),
    path(push, campaigns_api.PushNotificationListView.as_view(), name="api-push-notifications"),
    path(
        f"{push}/<str:notification_id>",
        campaigns_api.PushNotificationView.as_view(),
        name="api-push-notification",
    ),
    path(
        "api/v1/apps/<str:app_id>/launches",
        campaigns_api.LaunchView.as_view(),
        name="api-launches",
    ),
    # The dashboard owns every other path, so unknown API paths must stop here.
    re_path(r"^api/", api_errors.not_found),
    # Password reset, linked from the dashboard's login page by the name admin_password_reset.
    path("password_reset/", login.PasswordResetView.as_view(), name="admin_password_reset"),
    path("password_reset/done/", login.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "reset/<uidb64>/<token>/",
        login.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("reset/done/", login.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("time-zone/", admin.site.admin_view(time_zones.time_zone_view), name="time_zone"),
    path("", admin.site.urls),
]

# Outside /api/ the dashboard's own pages (pushcenter/templates/403.html, 404.html, 500.html),
# with its header and a way back.
handler400 = "pushcenter.api_errors.bad_request"
handler403 = "pushcenter.error_pages.permission_denied"
handler404 = "pushcenter.error_pages.page_not_found"
handler500 = "pushcenter.api_errors.server_error"

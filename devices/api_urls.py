from django.urls import path

from devices import api

urlpatterns = [
    path("v1/apps/<str:app_id>", api.MobileAppView.as_view(), name="api-app"),
    path(
        "v1/apps/<str:app_id>/credentials/validate",
        api.CredentialValidationView.as_view(),
        name="api-credentials-validate",
    ),
    path("v1/apps/<str:app_id>/devices", api.DeviceListView.as_view(), name="api-devices"),
    path(
        "v1/apps/<str:app_id>/devices/<str:install_id>", api.DeviceView.as_view(), name="api-device"
    ),
    path(
        "v1/apps/<str:app_id>/devices/<str:install_id>/user",
        api.DeviceUserView.as_view(),
        name="api-device-user",
    ),
    path(
        "v1.0/orgs/<str:org_id>/pushchannel/apps/<str:app_id>/devices/<str:user_id>",
        api.D365DeviceView.as_view(),
        name="api-d365-device",
    ),
]

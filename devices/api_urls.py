from django.urls import path

from devices import api

urlpatterns = [
    path("v1/apps/<str:app_id>", api.MobileAppView.as_view(), name="api-app"),
]

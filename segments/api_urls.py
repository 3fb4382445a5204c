from django.urls import path

from segments import api

prefix = "v0.1/apps/<str:owner_name>/<str:app_name>/analytics/audiences"
urlpatterns = [
    path(prefix, api.AudienceListView.as_view(), name="api-audiences"),
    path(f"{prefix}/<str:audience_name>", api.AudienceView.as_view(), name="api-audience"),
]

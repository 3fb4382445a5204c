from django.urls import path

from journeys import api

urlpatterns = [
    path("v1/apps/<str:app_id>/events", api.EventView.as_view(), name="api-events"),
    path(
        "v1/apps/<str:app_id>/segment",
        api.SegmentComWebhookView.as_view(),
        name="api-segment-com",
    ),
]

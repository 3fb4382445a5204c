from django.urls import path

from journeys import api, journey_api

urlpatterns = [
    path("v1/apps/<str:app_id>/events", api.EventView.as_view(), name="api-events"),
    path(
        "v1/apps/<str:app_id>/journeys", journey_api.JourneyListView.as_view(), name="api-journeys"
    ),
    path(
        "v1/apps/<str:app_id>/journeys/<str:journey_id>",
        journey_api.JourneyView.as_view(),
        name="api-journey",
    ),
    path(
        "v1/apps/<str:app_id>/journeys/<str:journey_id>/steps",
        journey_api.JourneyStepsView.as_view(),
        name="api-journey-steps",
    ),
    path(
        "v1/apps/<str:app_id>/segment",
        api.SegmentComWebhookView.as_view(),
        name="api-segment-com",
    ),
]

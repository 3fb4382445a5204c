from django.urls import path

from webhooks import api

app = "v1/apps/<str:app_id>/webhooks"
urlpatterns = [
    path(app, api.EndpointListView.as_view(), name="api-webhooks"),
    path(f"{app}/dead-letters", api.DeadLetterListView.as_view(), name="api-webhook-dead-letters"),
    path(f"{app}/dead-letters/replay", api.ReplayView.as_view(), name="api-webhook-replay"),
    path(f"{app}/<str:endpoint_id>", api.EndpointView.as_view(), name="api-webhook"),
    path(
        f"{app}/<str:endpoint_id>/rotate-secret",
        api.RotateSecretView.as_view(),
        name="api-webhook-rotate-secret",
    ),
    path(f"{app}/<str:endpoint_id>/test", api.TestEventView.as_view(), name="api-webhook-test"),
]

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("api/", include("devices.api_urls")),
    path("", admin.site.urls),
]

handler404 = "pushcenter.api_errors.not_found"
handler500 = "pushcenter.api_errors.server_error"

from django.contrib import admin
from django.urls import include, path, re_path

from pushcenter import api_errors

urlpatterns = [
    path("api/", include("devices.api_urls")),
    # The dashboard owns every other path, so unknown API paths must stop here.
    re_path(r"^api/", api_errors.not_found),
    path("", admin.site.urls),
]

handler404 = "pushcenter.api_errors.not_found"
handler500 = "pushcenter.api_errors.server_error"

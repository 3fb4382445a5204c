"""Each dashboard user's time zone: absolute times are entered and shown in it, stored in UTC.

The zone is the one the user chose on the time-zone page, else the browser's (time_zone.js
sets the cookie on the first page, the login page included), else UTC. The API always speaks
UTC.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import cache

from django import forms
from django.contrib import messages
from django.contrib.admin import site
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from pushcenter.models import UserTimeZone

COOKIE = "pushcenter_time_zone"


@cache
def known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_of(request: HttpRequest) -> str:
    """Return the request's zone: the user's choice, else the browser's, else UTC."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        chosen = UserTimeZone.objects.filter(user=user).values_list("time_zone", flat=True)
        if chosen and chosen[0] in known_zones():
            return chosen[0]
    browser = request.COOKIES.get(COOKIE, "")
    return browser if browser in known_zones() else "UTC"


class TimeZoneMiddleware:
    """Activate the user's zone for each dashboard request; API requests stay in UTC."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            return self.get_response(request)
        timezone.activate(zoneinfo.ZoneInfo(zone_of(request)))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Your time zone",
        help_text="Dates and times you enter and read in the dashboard are in this zone; the "
        "UTC time is shown beside them.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name) for name in sorted(known_zones())]


def time_zone_view(request: HttpRequest) -> HttpResponse:
    """Show and change the user's time zone."""
    back = request.GET.get("next") or request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}):
        back = ""
    form = TimeZoneForm(request.POST or None, initial={"time_zone": zone_of(request)})
    if request.method == "POST" and form.is_valid():
        UserTimeZone.objects.update_or_create(
            user=request.user, defaults={"time_zone": form.cleaned_data["time_zone"]}
        )
        messages.success(request, f"Your time zone is {form.cleaned_data['time_zone']}.")
        return HttpResponseRedirect(back or reverse("admin:index"))
    context = {**site.each_context(request), "title": "Your time zone", "form": form, "next": back}
    return TemplateResponse(request, "admin/time_zone.html", context)

"""The dashboard's own 403 and 404 pages, with its header and a way back; the API's stay JSON.

The 500 page is the template 500.html, rendered by Django with no context at all (the request
that failed may be what is broken), so it names nothing that needs one.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from pushcenter import api_errors


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer a refused page: the dashboard's styled page, JSON under /api/."""
    if api_errors.is_api(request):
        message = "You do not have permission to perform this action."
        return api_errors.error_response("permission_denied", message, 403)
    return _page(request, "403.html", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer an unknown page: the dashboard's styled page, JSON under /api/."""
    if api_errors.is_api(request):
        return api_errors.not_found(request, exception)
    return _page(request, "404.html", 404)


def _page(request: HttpRequest, template: str, status: int) -> HttpResponse:
    context = {**_site_context(request), **way_back(request)}
    return render(request, template, context, status=status)


def _site_context(request: HttpRequest) -> dict:
    """The dashboard's header and sidebar for the user; just its name before a user is known."""
    if not hasattr(request, "user"):
        return {"site_header": admin.site.site_header, "site_title": admin.site.site_title}
    return admin.site.each_context(request)


def way_back(request: HttpRequest) -> dict[str, str]:
    """Links back: the list of the page asked for, if the user may open it, and the page before."""
    links = {}
    listed = _list_of(request)
    if listed:
        links["list_url"], links["list_name"] = listed
    previous = request.headers.get("referer", "")
    if previous and _is_ours(request, previous) and previous != request.build_absolute_uri():
        links["previous_url"] = previous
    return links


def _list_of(request: HttpRequest) -> tuple[str, str] | None:
    """The list page of the model whose page was asked for, when the user may view it."""
    try:
        model_admin = getattr(resolve(request.path_info).func, "model_admin", None)
    except Resolver404:
        return None
    if model_admin is None or not model_admin.has_view_or_change_permission(request):
        return None
    opts = model_admin.model._meta
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    except NoReverseMatch:
        return None
    if url == request.path:
        return None
    return url, str(opts.verbose_name_plural).capitalize()


def _is_ours(request: HttpRequest, url: str) -> bool:
    return url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )

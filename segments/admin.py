"""The segment page: a definition with its properties beside it, checked and counted as typed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from devices import membership
from devices.models import MobileApp, validate_property_types
from pushcenter.admin_deletion import CountedDeletion
from pushcenter.request_limits import load_json
from segments import services
from segments.forms import SegmentForm
from segments.language import available_properties
from segments.models import Segment

USED_BY_SHOWN = 20


@dataclass(frozen=True)
class Use:
    """Something that targets a segment, as its page lists it: a link and its state."""

    name: str
    url: str
    state: str


# What uses a segment is known only to the apps built on segments: each adds, in its
# AppConfig.ready(), a function giving its things that use a segment, newest first.
users_of_segment: list[Callable[[Segment, int], list[Use]]] = []


@admin.register(Segment)
class SegmentAdmin(CountedDeletion, admin.ModelAdmin):
    form = SegmentForm
    list_display = ["name", "app", "definition", "updated_at"]
    list_filter = [("app", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "description", "definition"]
    readonly_fields = ["used_by", "author", "created_at", "updated_at"]
    fields = [
        "app",
        "name",
        "description",
        "definition",
        "custom_property_types",
        "used_by",
        "author",
        "created_at",
        "updated_at",
    ]
    change_form_template = "admin/segments/segment/change_form.html"

    @admin.display(description="Used by")
    def used_by(self, obj: Segment) -> str:
        """List what targets the segment (notifications, …), linked, up to USED_BY_SHOWN each."""
        uses = (
            [use for find in users_of_segment for use in find(obj, USED_BY_SHOWN)] if obj.pk else []
        )
        links = [
            format_html('<a href="{}">{}</a> ({})', use.url, use.name, use.state) for use in uses
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((link,) for link in links)) or "None yet"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Segment]:
        segments = super().get_queryset(request).filter(app__in=membership.apps_of(request.user))
        return segments.select_related("app__organization", "author")

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: object):
        if db_field.name == "app":
            kwargs["queryset"] = membership.apps_of(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: Segment, form: SegmentForm, change: bool
    ) -> None:
        if not change:
            obj.author = request.user
        with transaction.atomic():
            services.declare_types(obj.app, obj.custom_property_types)
            super().save_model(request, obj, form, change)

    def get_urls(self) -> list:
        preview = self.admin_site.admin_view(require_POST(self.preview_view))
        return [path("preview/", preview, name="segments_segment_preview"), *super().get_urls()]

    def preview_view(self, request: HttpRequest) -> JsonResponse:
        """Check a definition as it is typed; count and sample its devices when valid."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        app = self._visible_app(request, request.POST.get("app", ""))
        if app is None:
            return JsonResponse({"error": {"message": "Choose an app first."}, "properties": []})
        declared = _declared_types(request.POST.get("custom_property_types", ""))
        result = services.preview(app, request.POST.get("definition", ""), declared or {})
        if declared is None:
            result.error = {
                "message": "Custom properties must be a JSON object of names and types such as "
                '{"dog-lover": "boolean"} (types: string, number, boolean, datetime).'
            }
        properties = available_properties({**app.custom_property_types, **(declared or {})})
        return JsonResponse(
            {
                "error": result.error,
                "count": result.count,
                "sample": result.sample,
                "properties": [
                    {"name": p.name, "type": p.type, "description": p.description}
                    for p in properties
                ],
            }
        )

    def _visible_app(self, request: HttpRequest, app_id: str) -> MobileApp | None:
        apps = membership.apps_of(request.user)
        return apps.filter(pk=app_id).first() if app_id.isdigit() else None


def _declared_types(raw: str) -> dict[str, str] | None:
    """Read the form's custom property types; None when they are not a JSON object."""
    if not raw.strip():
        return {}
    try:
        value = load_json(raw)
        validate_property_types(value)
    except (ValueError, ValidationError):
        return None
    return value

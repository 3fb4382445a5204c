"""The events page: what the apps, their backends and Segment.com reported, to read."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from devices import membership
from events.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """The events the apps, their backends and Segment.com reported: to read, never to edit."""

    list_display = ["name", "user", "device", "app", "source", "occurred_at"]
    list_filter = ["source", ("app", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "=device__user_id"]
    search_help_text = "An event's name, or a user id exactly."
    show_full_result_count = False
    list_select_related = ["device", "app__organization"]

    @admin.display(description="user", ordering="device__user_id")
    def user(self, obj: Event) -> str:
        return obj.device.user_id or "-"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        apps = membership.apps_of(request.user)
        return super().get_queryset(request).filter(app__in=apps)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False

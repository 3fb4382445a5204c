"""Users in the dashboard: App administrators manage people and roles, never superusers."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import QuerySet
from django.http import HttpRequest

from pushcenter.roles import ROLES

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class PushCenterUserAdmin(UserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "roles", "is_active"]
    list_filter = ["is_active", "groups"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        users = super().get_queryset(request).prefetch_related("groups")
        if request.user.is_superuser:
            return users
        return users.filter(is_superuser=False)

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser or obj is None:
            return fieldsets
        # Others cannot grant what no role holds: superuser status or loose permissions.
        hidden = {"is_superuser", "user_permissions"}
        return [
            (title, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for title, options in fieldsets
        ]

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs: object):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=ROLES)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="Roles")
    def roles(self, user: User) -> str:
        return ", ".join(group.name for group in user.groups.all()) or "-"


@admin.register(Group)
class RoleAdmin(GroupAdmin):
    """Roles are defined in code (pushcenter/roles.py); the dashboard shows them."""

"""Users in the dashboard: App administrators manage the people of their organizations and apps
and their roles, never superusers."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group, User
from django.db.models import QuerySet
from django.http import HttpRequest

from devices import membership
from devices.models import MobileApp, Organization
from pushcenter.roles import ROLES

admin.site.unregister(User)
admin.site.unregister(Group)

MEMBERSHIPS = (
    "Organizations and apps",
    {
        "description": "A person sees the apps of the organizations they are given, and the "
        "apps they are given, in their roles.",
        "fields": ["member_organizations", "member_apps"],
    },
)

ROLE_ON_ADDING = ("Roles", {"fields": ["groups"]})
ROLES_HELP = (
    "A role lets the person log in and says what they may do there; "
    "a person with no role cannot log in."
)
STAFF_HELP = "Lets the person log in without a role (then they see nothing); a role is enough."


class MembershipFields(forms.Form):
    """A user form's organizations and apps; the page narrows them to the editor's own."""

    member_organizations = forms.ModelMultipleChoiceField(
        Organization.objects.none(),
        required=False,
        label="Organizations",
        widget=FilteredSelectMultiple("organizations", is_stacked=False),
    )
    member_apps = forms.ModelMultipleChoiceField(
        MobileApp.objects.none(),
        required=False,
        label="Apps",
        widget=FilteredSelectMultiple("apps", is_stacked=False),
    )
    # Set by the page: someone who is not a superuser gives each new person an organization or
    # an app, or the person would be out of their sight once saved.
    membership_required = False

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault(
                "member_organizations", list(self.instance.member_organizations.all())
            )
            self.initial.setdefault("member_apps", list(self.instance.member_apps.all()))

    def clean(self) -> dict:
        cleaned = super().clean()
        given = cleaned.get("member_organizations") or cleaned.get("member_apps")
        if self.membership_required and not given and not self.instance.pk:
            self.add_error("member_apps", "Apps: give the person an organization or an app.")
        return cleaned


class PersonCreationForm(MembershipFields, AdminUserCreationForm):
    pass


class PersonChangeForm(MembershipFields, UserChangeForm):
    pass


@admin.register(User)
class PushCenterUserAdmin(UserAdmin):
    form = PersonChangeForm
    add_form = PersonCreationForm
    list_display = ["username", "email", "first_name", "last_name", "roles", "is_active"]
    list_filter = ["is_active", "groups"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        people = membership.people_of(request.user).values("pk")
        return super().get_queryset(request).filter(pk__in=people).prefetch_related("groups")

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None):
        if obj is None:
            # A new person is given their role on the page that adds them: it lets them log in.
            return [*super().get_fieldsets(request, obj), ROLE_ON_ADDING, MEMBERSHIPS]
        fieldsets = [*super().get_fieldsets(request, obj), MEMBERSHIPS]
        if request.user.is_superuser:
            return fieldsets
        # Others cannot grant what no role holds: superuser status or loose permissions. Staff
        # status is not needed either: a role lets a person log in.
        hidden = {"is_superuser", "user_permissions", "is_staff"}
        return [
            (title, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for title, options in fieldsets
        ]

    def get_form(self, request: HttpRequest, obj: User | None = None, **kwargs: object):
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["member_organizations"].queryset = membership.organizations_of(
            request.user
        )
        form.base_fields["member_apps"].queryset = membership.apps_of(request.user)
        form.membership_required = not request.user.is_superuser
        if "groups" in form.base_fields:
            form.base_fields["groups"].label = "Roles"
            form.base_fields["groups"].help_text = ROLES_HELP
        if "is_staff" in form.base_fields:
            form.base_fields["is_staff"].help_text = STAFF_HELP
        return form

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        person = form.instance
        _give(
            person.member_organizations,
            form.cleaned_data["member_organizations"],
            membership.organizations_of(request.user),
        )
        _give(
            person.member_apps, form.cleaned_data["member_apps"], membership.apps_of(request.user)
        )

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs: object):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=ROLES)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="Roles")
    def roles(self, user: User) -> str:
        return ", ".join(group.name for group in user.groups.all()) or "-"


def _give(memberships, chosen: QuerySet, reachable: QuerySet) -> None:
    """Set the memberships the editor could choose; keep those beyond the editor's reach."""
    beyond = memberships.exclude(pk__in=reachable.values("pk"))
    memberships.set([*chosen, *beyond])


@admin.register(Group)
class RoleAdmin(GroupAdmin):
    """Roles are defined in code (pushcenter/roles.py); the dashboard shows them."""

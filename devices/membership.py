"""Who may see what: people are given organizations or apps, and see only those apps.

Every dashboard page asks these functions; none decides visibility on its own. A superuser
sees everything; so does a user a superuser granted the `devices.view_every_app` permission by
hand (no role holds it).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import Q, QuerySet

from devices.models import MobileApp, Organization

AnyUser = AbstractBaseUser | AnonymousUser


def sees_every_app(user: AnyUser) -> bool:
    """Say whether the user sees every organization and app."""
    return user.is_active and (user.is_superuser or user.has_perm("devices.view_every_app"))


def apps_of(user: AnyUser) -> QuerySet[MobileApp]:
    """Return the apps the user may see: those they or their organization are given."""
    apps = MobileApp.objects.all()
    if sees_every_app(user):
        return apps
    if not user.is_authenticated or not user.is_active:
        return apps.none()
    given = Q(members=user) | Q(organization__members=user)
    return apps.filter(pk__in=MobileApp.objects.filter(given).values("pk"))


def organizations_of(user: AnyUser) -> QuerySet[Organization]:
    """Return the organizations the user is a member of (all of them for a superuser).

    Being given one app of an organization does not open the organization itself: its page
    lists its members, and changing them would reach the organization's other apps.
    """
    organizations = Organization.objects.all()
    if sees_every_app(user):
        return organizations
    if not user.is_authenticated or not user.is_active:
        return organizations.none()
    return organizations.filter(members=user)


def people_of(user: AnyUser) -> QuerySet[User]:
    """Return the people the user may see and manage: themselves, and the non-superusers
    whose every organization and app is one the user may see, with at least one of them.

    Someone also given another organization's app is left out: managing them (a password, a
    role) would reach that app.
    """
    people = User.objects.all()
    if user.is_superuser:
        return people
    if not user.is_authenticated or not user.is_active:
        return people.none()
    organizations = organizations_of(user)
    apps = apps_of(user)
    inside = Q(member_organizations__in=organizations) | Q(member_apps__in=apps)
    scoped = (
        people.filter(inside)
        .exclude(member_organizations__in=Organization.objects.exclude(pk__in=organizations))
        .exclude(member_apps__in=MobileApp.objects.exclude(pk__in=apps))
        .exclude(is_superuser=True)
        .exclude(user_permissions__codename="view_every_app")
        .exclude(groups__permissions__codename="view_every_app")
    )
    return people.filter(Q(pk__in=scoped.values("pk")) | Q(pk=user.pk))

"""Cross-app checks generated from the dashboard's URL configuration.

Every dashboard URL is walked. Each pattern that names an object is filled with an object of
another organization's app (fabrikam/zeta), and people given only contoso/retail, in every role
and whether given the app or its organization, must be refused it — 403, 404, 405 or a redirect
that shows nothing of it — and must change nothing of it. Each pattern without an object must
show them nothing of the other app. A new pattern whose object this file cannot make fails
here, so a new page is covered without anyone remembering to add it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from pushcenter import roles
from tests.conftest import logged_in, make_user
from tests.other_tenant import MARKER, Tenant, fingerprint, make_tenant

# Each app model's pages are tried with the other app's object of that model (a Tenant field).
APP_OBJECTS = {
    "devices.organization": "organization",
    "devices.mobileapp": "app",
    "auth.user": "person",
    "devices.device": "device",
    "devices.apitoken": "token",
    "segments.segment": "segment",
    "campaigns.notification": "notification",
    "experiments.experiment": "experiment",
    "experiments.arm": "arm",
    "journeys.journey": "journey",
    "journeys.step": "step",
    "events.event": "event",
    "webhooks.endpoint": "webhook_endpoint",
    "webhooks.batch": "webhook_batch",
}
# Models that belong to no app: roles and Celery Beat's schedules. Their pages may answer, but
# must show nothing of the other app.
SHARED_OBJECTS: dict[str, Callable[[], models.Model]] = {
    "auth.group": lambda: Group.objects.get(name=roles.MARKETER),
    "django_celery_beat.clockedschedule": lambda: ClockedSchedule.objects.create(
        clocked_time=timezone.now()
    ),
    "django_celery_beat.crontabschedule": lambda: CrontabSchedule.objects.create(),
    "django_celery_beat.intervalschedule": lambda: IntervalSchedule.objects.create(
        every=1, period=IntervalSchedule.MINUTES
    ),
    "django_celery_beat.solarschedule": lambda: SolarSchedule.objects.create(
        event="sunrise", latitude=0, longitude=0
    ),
    "django_celery_beat.periodictask": lambda: PeriodicTask.objects.create(
        name="a shared sweep",
        task="campaigns.tasks.sweep",
        interval=IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES),
    ),
}
# URL parameters other than the page's own object, and the object or value each takes.
PARAMETERS: dict[str, Callable[[Tenant], object]] = {
    "notification_pk": lambda tenant: tenant.notification.pk,
    "device_pk": lambda tenant: tenant.device.pk,
    "arm_pk": lambda tenant: tenant.arm.pk,
    "step_pk": lambda tenant: tenant.step.pk,
    "platform": lambda tenant: "ios",
}
OWN_OBJECT = {"object_id", "pk", "id"}
# Patterns that are no page: the catch-all that answers 404 for unknown paths.
NOT_PAGES = {"(?P<url>.*)$"}
PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
REFUSED = {302, 403, 404, 405}


def dashboard_routes(patterns: list | None = None, prefix: str = "") -> Iterator[str]:
    """Yield every route of the dashboard site, its includes' prefixes joined."""
    for pattern in admin.site.urls[0] if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from dashboard_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def model_label(route: str) -> str:
    app_label, model_name, *_ = route.split("/")
    return f"{app_label}.{model_name}"


def own_object(route: str, tenant: Tenant, shared: dict[str, models.Model]) -> models.Model:
    label = model_label(route)
    if label in APP_OBJECTS:
        return getattr(tenant, APP_OBJECTS[label])
    if label in shared:
        return shared[label]
    raise LookupError(f"{route}: no object of {label} to try; add one to APP_OBJECTS")


def filled(route: str, tenant: Tenant, shared: dict) -> list[tuple[str, bool]]:
    """Fill a route's parameters; return each URL and whether its object is the other app's."""
    names = PARAMETER.findall(route)
    if route.startswith("r/"):
        # View on site: one URL per object of the other app.
        return [
            (f"/r/{ContentType.objects.get_for_model(obj).pk}/{obj.pk}/", True)
            for obj in tenant.objects()
        ]
    values = {}
    of_the_app = True
    for name in names:
        if name in OWN_OBJECT:
            obj = own_object(route, tenant, shared)
            values[name] = obj.pk
            of_the_app = model_label(route) in APP_OBJECTS
        elif name in PARAMETERS:
            values[name] = PARAMETERS[name](tenant)
        else:
            raise LookupError(f"{route}: no value for the parameter {name!r}; add it to PARAMETERS")
    return [("/" + PARAMETER.sub(lambda m: str(values[m.group(1)]), route), of_the_app)]


def object_urls(tenant: Tenant, shared: dict) -> list[tuple[str, bool]]:
    return [
        url
        for route in dashboard_routes()
        if route not in NOT_PAGES and not route.startswith("^") and PARAMETER.search(route)
        for url in filled(route, tenant, shared)
    ]


def plain_urls() -> list[str]:
    """Every dashboard page without an object, each app's index among them."""
    urls = []
    for route in dashboard_routes():
        if route in NOT_PAGES or PARAMETER.search(route):
            continue
        if route.startswith("^"):
            labels = re.fullmatch(r"\^\(\?P<app_label>([\w|]+)\)/\$", route)
            assert labels, f"{route}: a regular-expression route this file does not know"
            urls += [f"/{label}/" for label in labels.group(1).split("|")]
        else:
            urls.append("/" + route)
    return urls


def autocomplete_urls() -> list[str]:
    """The autocomplete of every relation between two models the dashboard has pages for."""
    urls = []
    for model in admin.site._registry:
        for field in model._meta.get_fields():
            remote = getattr(field, "related_model", None)
            if field.is_relation and not field.auto_created and remote in admin.site._registry:
                meta = model._meta
                urls.append(
                    f"/autocomplete/?app_label={meta.app_label}&model_name={meta.model_name}"
                    f"&field_name={field.name}&term="
                )
    return urls


@pytest.fixture
def tenant(db) -> Tenant:
    return make_tenant()


@pytest.fixture
def shared(db) -> dict[str, models.Model]:
    return {label: make() for label, make in SHARED_OBJECTS.items()}


SCOPES = [(role, given) for role in roles.ROLES for given in ("organization", "app")]


@pytest.fixture(params=SCOPES, ids=[f"{role} of the {given}" for role, given in SCOPES])
def scoped(request, retail) -> User:
    """A person given contoso/retail, or its organization, in one role."""
    role, given = request.param
    person = make_user(f"{role.lower().replace(' ', '-')}-{given}", role)
    (retail.organization if given == "organization" else retail).members.add(person)
    return person


def refused(client: Client, url: str, method: str) -> str:
    """Request the URL; fail unless it is refused and shows nothing of the other app."""
    response = getattr(client, method)(url)
    body = response.content.decode(errors="replace")
    assert response.status_code in REFUSED, f"{method.upper()} {url}: {response.status_code}"
    assert MARKER not in body, f"{method.upper()} {url} shows the other app"
    if response.status_code == 302 and method == "get":
        followed = client.get(response["Location"], follow=True)
        assert followed.status_code != 500
        shown = followed.content.decode(errors="replace")
        assert MARKER not in shown, f"{url} leads to {followed.redirect_chain}, showing it"
    return body


def test_every_pattern_with_an_object_has_one_to_try(tenant, shared):
    urls = object_urls(tenant, shared)
    assert len(urls) > 60


def test_the_objects_tried_are_real_pages_for_a_superuser(tenant, shared, root):
    client = logged_in(root)
    for url, _ in object_urls(tenant, shared):
        if url.startswith("/r/"):
            continue  # view on site: 404 for every model, as none has a page outside the dashboard
        response = client.get(url)
        assert response.status_code not in (404, 500), f"GET {url}: {response.status_code}"
        assert response.get("Location") != "/", f"GET {url}: the object was not found"


def test_nobody_reaches_another_apps_objects(scoped, tenant, shared):
    client = logged_in(scoped)
    before = fingerprint(tenant)
    for url, of_the_app in object_urls(tenant, shared):
        for method in ("get", "post"):
            if of_the_app:
                refused(client, url, method)
            else:
                response = getattr(client, method)(url)
                assert MARKER not in response.content.decode(errors="replace"), url
    assert fingerprint(tenant) == before


def test_no_page_without_an_object_shows_another_app(scoped, tenant):
    client = logged_in(scoped)
    for url in [*plain_urls(), *autocomplete_urls()]:
        response = client.get(url)
        assert response.status_code != 500, url
        assert MARKER not in response.content.decode(errors="replace"), f"GET {url} shows it"

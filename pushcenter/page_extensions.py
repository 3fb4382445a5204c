"""What a higher app adds to the dashboard pages of a lower one, without those pages naming it.

The layering runs one way: the pages of an app, a device or a notification may not name the
apps above them, yet those apps have pages, buttons and figures about these objects. They add
them here, in their AppConfig.ready(): pages of their own inside the dashboard site (so login,
permissions and the dashboard's look stay the site's), links and buttons among an object's
tools (beside History), columns of a model's list, and inlines of a model's page (their own
settings for the object, shown before the page's own inlines). A page shows whatever was added
for its model through the `Extensible` mixin; its template lists `object_links` and
`object_actions`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.urls import URLPattern


@dataclass(frozen=True)
class Link:
    """A link among an object's tools."""

    label: str
    url: str


@dataclass(frozen=True)
class Action:
    """A button among an object's tools that posts a form holding only the CSRF token to `url`.

    `name` gives the ids: the form is `<name>-form` and its button `<name>-button`.
    """

    name: str
    label: str
    url: str


@dataclass(frozen=True)
class Column:
    """A column of a model's list: its cells' class (`field-<name>`), heading and text.

    `reads` names the relations the cells follow, fetched with the list's rows. `shown`, when
    given, decides from the rows the person may see whether the list has the column at all.
    """

    name: str
    heading: str
    cell: Callable[[Any], str]
    reads: tuple[str, ...] = ()
    shown: Callable[[models.QuerySet], bool] | None = None

    def display(self) -> Callable[[Any], str]:
        """The column as the list's `list_display` takes it: a named, described callable."""

        def cell(obj: Any) -> str:
            return self.cell(obj)

        cell.__name__ = self.name
        return admin.display(description=self.heading)(cell)


T = TypeVar("T")
Maker = Callable[[HttpRequest, Any], T | None]


class ObjectTools(Generic[T]):
    """Per model, what makes an addition to an object's page: a Link or Action, or None."""

    def __init__(self) -> None:
        self._makers: dict[type[models.Model], list[Maker[T]]] = {}

    def add(self, model: type[models.Model], maker: Maker[T]) -> None:
        makers = self._makers.setdefault(model, [])
        if maker not in makers:
            makers.append(maker)

    def made(self, request: HttpRequest, obj: models.Model) -> list[T]:
        """What the makers of the object's model give for it, in the order they were added."""
        found = (maker(request, obj) for maker in self._makers.get(type(obj), []))
        return [tool for tool in found if tool is not None]


links: ObjectTools[Link] = ObjectTools()
actions: ObjectTools[Action] = ObjectTools()
_columns: dict[type[models.Model], list[Column]] = {}
_inlines: dict[type[models.Model], list[type[admin.options.InlineModelAdmin]]] = {}
_pages: list[Callable[[admin.AdminSite], list[URLPattern]]] = []


def add_column(model: type[models.Model], column: Column) -> None:
    columns = _columns.setdefault(model, [])
    if column not in columns:
        columns.append(column)


def columns(model: type[models.Model]) -> list[Column]:
    return list(_columns.get(model, []))


def add_inline(model: type[models.Model], inline: type[admin.options.InlineModelAdmin]) -> None:
    added = _inlines.setdefault(model, [])
    if inline not in added:
        added.append(inline)


def inlines(model: type[models.Model]) -> list[type[admin.options.InlineModelAdmin]]:
    return list(_inlines.get(model, []))


def add_pages(urls: Callable[[admin.AdminSite], list[URLPattern]]) -> None:
    """Serve pages inside the dashboard site: `urls(site)` gives their patterns.

    They are matched before the models' pages, so they may sit under a model's path (a model's
    own patterns end in a catch-all for its objects). Each view should be wrapped in
    `site.admin_view` and check what the model's page checks.
    """
    if urls not in _pages:
        _pages.append(urls)


def pages(site: admin.AdminSite) -> list[URLPattern]:
    return [pattern for urls in _pages for pattern in urls(site)]


class Extensible:
    """A ModelAdmin mixin: its pages show what other apps added for its model.

    The change form's context gets `object_links` and `object_actions` and the added inlines
    come first; the list shows the
    added columns before `added_columns_before` (at the end when it is not listed), and the
    rows come with the relations those columns read.
    """

    added_columns_before: str = ""

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict,
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: models.Model | None = None,
    ):
        context["object_links"] = links.made(request, obj) if obj is not None else []
        context["object_actions"] = actions.made(request, obj) if obj is not None else []
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_inlines(self, request: HttpRequest, obj: models.Model | None) -> list:
        return [*inlines(self.model), *super().get_inlines(request, obj)]

    def get_list_display(self, request: HttpRequest) -> list:
        shown = list(super().get_list_display(request))
        rows = self.get_queryset(request)
        added = [
            column.display()
            for column in columns(self.model)
            if column.shown is None or column.shown(rows)
        ]
        before = self.added_columns_before
        at = shown.index(before) if before in shown else len(shown)
        return [*shown[:at], *added, *shown[at:]]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        # The list's own select_related is skipped once get_queryset selects anything, so the
        # relations the added columns read are fetched here, with every page's rows.
        objects = super().get_queryset(request)
        reads = [name for column in columns(self.model) for name in column.reads]
        return objects.select_related(*reads) if reads else objects

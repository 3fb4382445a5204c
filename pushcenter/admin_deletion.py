"""Deletion pages that count what goes with an object rather than listing every row.

Django's confirmation page fetches and lists each related row: a notification sent to a million
devices would list a million deliveries. These pages list the objects themselves and count the
rest, with Django's checks kept: the delete permission of each kind of row that goes (where the
site has a page for it), and the rows that protect the objects from deletion.
"""

from __future__ import annotations

from collections import defaultdict
from functools import reduce
from operator import or_

from django.db import models, router
from django.db.models import Q
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.http import HttpRequest


class CountedDeletion:
    """A ModelAdmin mixin: the delete confirmation names the objects and counts the rest."""

    def deletion_roots(self, obj: models.Model) -> list[models.Model]:
        """Everything deleting `obj` deletes besides what cascades from it."""
        return [obj]

    def get_deleted_objects(self, objs, request: HttpRequest):
        objs = list(objs)
        roots = [root for obj in objs for root in self.deletion_roots(obj)]
        collector = Collector(using=router.db_for_write(self.model))
        try:
            for root in roots:
                collector.collect([root])
        except ProtectedError as error:
            return [str(obj) for obj in objs], {}, set(), _named(error.protected_objects)
        except RestrictedError as error:
            return [str(obj) for obj in objs], {}, set(), _named(error.restricted_objects)
        counts = _counts(collector)
        return [str(obj) for obj in objs], counts, self._perms_needed(collector, request), []

    def _perms_needed(self, collector: Collector, request: HttpRequest) -> set[str]:
        models_going = set(collector.data) | {query.model for query in collector.fast_deletes}
        registry = self.admin_site._registry
        return {
            model._meta.verbose_name
            for model in models_going
            if model in registry and not registry[model].has_delete_permission(request)
        }


def _counts(collector: Collector) -> dict[str, int]:
    """Rows per kind; a row reached by two paths (fetched, and in a bulk delete) counts once."""
    conditions: dict[type[models.Model], list[Q]] = defaultdict(list)
    for query in collector.fast_deletes:
        conditions[query.model].append(Q(pk__in=query.values("pk")))
    counts = {}
    for model, instances in collector.data.items():
        if model in conditions:
            conditions[model].append(Q(pk__in=[instance.pk for instance in instances]))
        else:
            counts[model] = len(instances)
    for model, found in conditions.items():
        counts[model] = model._base_manager.filter(reduce(or_, found)).count()
    return {str(model._meta.verbose_name_plural): n for model, n in counts.items() if n}


def _named(objects) -> list[str]:
    return [f"{obj._meta.verbose_name.capitalize()}: {obj}" for obj in list(objects)[:100]]

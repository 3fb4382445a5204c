"""The apps depend on each other one way: imports, foreign keys, migrations and URL names.

    pushcenter (settings, urls, demo, admin site)
      -> journeys, experiments, webhooks   (peers: none uses another)
      -> metrics
      -> campaigns
      -> segments                (its language counts a device's events)
      -> events
      -> devices
      -> devices.providers

An app may use its own modules and any app below it, never one above it or beside it. A few of
pushcenter's modules are the floor every app stands on (FLOOR): anyone may import them, and
they import no app. Drawn from the source, not from a list kept by hand, so a new import that
runs the wrong way fails here with its file and line.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db.migrations.loader import MigrationLoader

ROOT = Path(settings.BASE_DIR)

RANKS = {
    "pushcenter": 7,
    "journeys": 6,
    "experiments": 6,
    "webhooks": 6,
    "metrics": 5,
    "campaigns": 4,
    "segments": 3,
    "events": 2,
    "devices": 1,
    "devices.providers": 0,
}

FLOOR = {
    "pushcenter.admin_deletion",
    "pushcenter.api_errors",
    "pushcenter.api_schema",
    "pushcenter.client_address",
    "pushcenter.env",
    "pushcenter.isolation",
    "pushcenter.page_extensions",
    "pushcenter.request_limits",
    "pushcenter.sql",
}


def layer_of(module: str) -> str | None:
    """The layer a dotted module name belongs to, or None for a third-party module."""
    if module.startswith("devices.providers"):
        return "devices.providers"
    top = module.split(".")[0]
    return top if top in RANKS else None


def may_use(user: str, used: str) -> bool:
    """Whether module `user` may import module `used`."""
    if used in FLOOR or any(used.startswith(f"{floor}.") for floor in FLOOR):
        return user in FLOOR or layer_of(user) is not None
    if user in FLOOR:
        return layer_of(used) is None
    mine, theirs = layer_of(user), layer_of(used)
    return theirs is None or mine == theirs or RANKS[theirs] < RANKS[mine]


def source_files() -> Iterator[tuple[str, Path]]:
    for layer in {name.split(".")[0] for name in RANKS}:
        for path in sorted((ROOT / layer).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def imported_names(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every module `path` imports, at any depth of the file, with its line."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from campaigns import delivery` imports campaigns.delivery.
                yield f"{base}.{alias.name}", node.lineno


def wrong_way_imports() -> list[str]:
    found = []
    for module, path in source_files():
        for name, line in imported_names(module, path):
            if layer_of(name) is not None and not may_use(module, name):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return found


def test_imports_run_one_way():
    assert wrong_way_imports() == []


@pytest.mark.parametrize(
    ("user", "used", "allowed"),
    [
        ("campaigns.delivery", "devices.models", True),
        ("campaigns.delivery", "journeys.models", False),
        ("experiments.results", "journeys.models", False),
        ("devices.admin", "metrics.views", False),
        ("devices.providers.apns", "devices.models", False),
        ("segments.services", "pushcenter.isolation", True),
        ("segments.language", "events.models", True),
        ("events.models", "segments.models", False),
        ("devices.models", "pushcenter.roles", False),
        ("pushcenter.isolation", "devices.models", False),
        ("pushcenter.urls", "campaigns.api", True),
    ],
)
def test_the_rule_itself(user, used, allowed):
    assert may_use(user, used) is allowed


def own_models():
    return [model for model in apps.get_models() if model._meta.app_label in RANKS]


def test_foreign_keys_point_down():
    wrong = [
        f"{model.__name__}.{field.name} -> {field.related_model._meta.label}"
        for model in own_models()
        for field in model._meta.get_fields()
        if field.is_relation
        and field.concrete
        and field.related_model is not None
        and field.related_model._meta.app_label in RANKS
        and not may_use(model._meta.app_label, field.related_model._meta.app_label)
    ]
    assert wrong == []


def test_migrations_depend_down():
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    wrong = [
        f"{app}.{name} depends on {parent_app}.{parent_name}"
        for (app, name), node in graph.node_map.items()
        if app in RANKS
        for parent_app, parent_name in (parent.key for parent in node.parents)
        if parent_app in RANKS and not may_use(app, parent_app)
    ]
    assert wrong == []


ADMIN_URL = re.compile(r"""['"]admin:([a-z]+)_""")


def template_files() -> Iterator[tuple[str, Path]]:
    """Each admin template with the app it belongs to (templates/admin/<app>/…)."""
    for path in ROOT.rglob("templates/admin/*/**/*.html"):
        if ".venv" in path.parts:
            continue
        app = path.parts[path.parts.index("admin") + 1]
        if app in RANKS:
            yield app, path


def test_templates_and_reverses_name_urls_below():
    modules = ((module.split(".")[0], path) for module, path in source_files())
    sources = [*template_files(), *modules]
    wrong = [
        f"{path.relative_to(ROOT)} names admin:{target}_…"
        for owner, path in sources
        for target in ADMIN_URL.findall(path.read_text())
        if target in RANKS and not may_use(owner, target)
    ]
    assert wrong == []

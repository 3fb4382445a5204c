"""Personalize notification text per device: Jinja2 expressions over user, device, app, event.

A text such as ``Hi {{ user.first_name | default('there') }}`` may read only four namespaces:

- ``user``: ``id`` (the device's user ID) and every custom property the app declares; a name
  with '-' is written ``user['dog-lover']``.
- ``device``: the columns in DEVICE_PROPERTIES.
- ``app``: ``name`` and ``display_name``.
- ``event``: the properties of the event that started a journey, such as
  ``event.product_name``; empty outside event journeys, so such a token shows its default.

It may use ``{{ }}`` output, ``{% if %}``/``{% elif %}``/``{% else %}``, constants, one level of
property access, comparisons, ``and``/``or``/``not``, ``a if b else c``, concatenation with ``~``
and the filters in FILTER_NAMES. Everything else — loops, ``set``, macros, calls, imports,
arithmetic, tests, lists — is refused. ``format`` is refused too: printf-style formatting is a
second template language inside the first.

A missing value (absent, null or "" on this device) takes its ``default(...)`` or renders as
nothing, never as "None" and never as an error; comparisons with it are false. Booleans render
as ``true``/``false`` and whole floats without ``.0``. Autoescaping is off: this is push text,
and each payload renderer escapes for its own XML or JSON.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping

from jinja2 import Template, TemplateError, TemplateSyntaxError, Undefined, nodes
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeVisitor

from devices.models import Device, DeviceStatus, MobileApp

MAX_TEXT_LENGTH = 4000
# Every provider's payload is about 4 KB; a longer text could not be delivered anyway.
MAX_OUTPUT_LENGTH = 4000
# Jinja's parser and compiler recurse; a bound keeps hostile nesting from reaching Python's limit.
MAX_NESTING = 32

NAMESPACES = ("user", "device", "app", "event")
DEVICE_PROPERTIES = (
    "install_id",
    "platform",
    "locale",
    "language",
    "time_zone",
    "app_version",
    "carrier_country",
    "os_version",
    "os_api_level",
    "model",
    "oem_name",
    "screen_size",
)
APP_PROPERTIES = ("name", "display_name")
FILTER_NAMES = (
    "default",
    "d",
    "upper",
    "lower",
    "title",
    "capitalize",
    "trim",
    "truncate",
    "replace",
    "round",
    "int",
    "float",
    "string",
)

# The Device columns whose names in a text are shorter than in the database.
_DEVICE_COLUMNS = {"os_version": "device_os_version", "model": "device_model"}
SAMPLE_INSTALL_ID = "00000000-0000-4000-8000-000000000000"
_SAMPLE_DEVICES = {
    "ios": {
        "platform": "ios",
        "os_version": "17.5",
        "model": "iPhone15,2",
        "oem_name": "Apple",
        "screen_size": "1179x2556",
    },
    "android": {
        "platform": "android",
        "os_version": "14",
        "os_api_level": 34,
        "model": "Pixel 8",
        "oem_name": "Google",
        "screen_size": "1080x2400",
    },
    "windows": {
        "platform": "windows",
        "os_version": "10.0.22631",
        "model": "Surface Laptop 5",
        "oem_name": "Microsoft",
        "screen_size": "2256x1504",
    },
}
_SAMPLE_PLACE = {
    "locale": "en-US",
    "language": "en",
    "time_zone": "America/New_York",
    "app_version": "1.0.0",
    "carrier_country": "US",
}

# Which property names each namespace has; None means any name (render time, app unknown).
Properties = Mapping[str, tuple[str, ...] | None]
_RENDER_PROPERTIES: Properties = {
    "user": None,
    "device": DEVICE_PROPERTIES,
    "app": APP_PROPERTIES,
    "event": None,
}


class PersonalizationError(ValueError):
    """A text that cannot be personalized: what is wrong and, on several lines, where."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def has_tokens(text: str) -> bool:
    """Tell whether a text has anything to render, so plain texts can skip rendering."""
    return "{{" in text or "{%" in text or "{#" in text


def check_text(text: str, app: MobileApp) -> None:
    """Refuse a text that does not parse or reads anything but user, device, app and event."""
    _check(text, _app_properties(app))
    _compiled(text)


def render_text(text: str, context: Mapping[str, object]) -> str:
    """Render a text for one device's context; safe on a text that was never checked."""
    template = _compiled(text)
    namespaces = {name: context.get(name, {}) for name in NAMESPACES}
    try:
        return _joined_within_cap(template.generate(namespaces))
    except PersonalizationError:
        raise
    except (TemplateError, TypeError, ValueError, ArithmeticError) as error:
        raise PersonalizationError(f"The text cannot be rendered: {error}") from error


def device_context(
    device: Device, app: MobileApp, event: Mapping[str, object] | None = None
) -> dict[str, dict[str, object]]:
    """Build the context of one device (and the event that started its journey, if any).

    Missing values are left out so defaults apply.
    """
    declared = {name: device.custom_properties.get(name) for name in app.custom_property_types}
    columns = {name: getattr(device, _DEVICE_COLUMNS.get(name, name)) for name in DEVICE_PROPERTIES}
    columns["install_id"] = str(device.install_id)
    return {
        "user": _present({**declared, "id": device.user_id}),
        "device": _present(columns),
        "app": _app_values(app),
        "event": _present(event or {}),
    }


def sample_context(app: MobileApp) -> dict[str, dict[str, object]]:
    """Give the preview a context: the app's latest active device, or a made-up one."""
    device = (
        Device.objects.filter(app=app, status=DeviceStatus.ACTIVE).order_by("-last_seen").first()
    )
    if device is not None:
        return device_context(device, app)
    # We know no user's name or properties: leaving them out shows the text's defaults.
    return {"user": {}, "device": _sample_device(app), "app": _app_values(app)}


def _sample_device(app: MobileApp) -> dict[str, object]:
    platforms = app.platforms()
    platform = platforms[0] if platforms else "ios"
    return {"install_id": SAMPLE_INSTALL_ID, **_SAMPLE_PLACE, **_SAMPLE_DEVICES[platform]}


def _app_values(app: MobileApp) -> dict[str, object]:
    return _present({"name": app.name, "display_name": app.display_name})


def _present(values: Mapping[str, object]) -> dict[str, object]:
    return {name: value for name, value in values.items() if not _is_missing(value)}


def _is_missing(value: object) -> bool:
    return value is None or isinstance(value, Undefined) or (isinstance(value, str) and not value)


def _app_properties(app: MobileApp) -> Properties:
    user = ("id", *(name for name in app.custom_property_types if name != "id"))
    # An event's properties are whatever the app reports; a text without the event shows the
    # token's default.
    return {"user": user, "device": DEVICE_PROPERTIES, "app": APP_PROPERTIES, "event": None}


def _joined_within_cap(chunks: Iterable[str]) -> str:
    parts: list[str] = []
    length = 0
    for chunk in chunks:
        length += len(chunk)
        if length > MAX_OUTPUT_LENGTH:
            raise PersonalizationError(
                f"The text renders to more than {MAX_OUTPUT_LENGTH} characters on this device."
            )
        parts.append(chunk)
    return "".join(parts)


# --- Checking -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _compiled(text: str) -> Template:
    """Check and compile a text once: a send renders the same text for every device."""
    _check(text, _RENDER_PROPERTIES)
    return _ENVIRONMENT.from_string(text)


def _check(text: str, properties: Properties) -> None:
    if len(text) > MAX_TEXT_LENGTH:
        raise PersonalizationError(f"The text is longer than {MAX_TEXT_LENGTH} characters.")
    _TokenChecker(text, properties).visit(_parsed(text))


def _parsed(text: str) -> nodes.Template:
    try:
        return _ENVIRONMENT.parse(text)
    except TemplateSyntaxError as error:
        message = f"Syntax error at line {error.lineno}: {error.message}"
        raise PersonalizationError(message) from None
    except RecursionError:
        raise PersonalizationError("The text nests too deeply.") from None


# What a refused node is, in the words of the text's author.
_REFUSED = {
    "For": "{% for %} loops",
    "Assign": "{% set %}",
    "AssignBlock": "{% set %}",
    "Macro": "{% macro %}",
    "CallBlock": "{% call %}",
    "Include": "{% include %}",
    "Import": "{% import %}",
    "FromImport": "{% from ... import %}",
    "Extends": "{% extends %}",
    "Block": "{% block %}",
    "FilterBlock": "{% filter %} blocks",
    "With": "{% with %}",
    "Test": "tests with 'is'",
    "List": "lists",
    "Tuple": "tuples",
    "Dict": "dicts",
    "Slice": "slices",
    "Add": "arithmetic (+)",
    "Sub": "arithmetic (-)",
    "Mul": "arithmetic (*)",
    "Div": "arithmetic (/)",
    "FloorDiv": "arithmetic (//)",
    "Mod": "arithmetic (%)",
    "Pow": "arithmetic (**)",
}


class _TokenChecker(NodeVisitor):
    """Walk a parsed text and refuse every node outside the allowed few."""

    def __init__(self, text: str, properties: Properties) -> None:
        self.multiline = "\n" in text
        self.properties = properties
        self.depth = 0

    def visit(self, node: nodes.Node | None) -> None:
        if node is None:
            return
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise PersonalizationError(f"The text nests too deeply{self._where(node)}.")
        try:
            super().visit(node)
        finally:
            self.depth -= 1

    def generic_visit(self, node: nodes.Node) -> None:
        what = _REFUSED.get(type(node).__name__, type(node).__name__)
        if isinstance(node, nodes.Call):
            what = f"the call {_token(node)}"
        raise PersonalizationError(
            f"{what[0].upper()}{what[1:]}{self._where(node)}: not allowed in push text, which has "
            f"user, device, app and event properties, filters and {{% if %}}{_hyphen_hint(node)}"
        )

    def visit_all(self, children: Iterable[nodes.Node | None]) -> None:
        for child in children:
            self.visit(child)

    def visit_Template(self, node: nodes.Template) -> None:
        self.visit_all(node.body)

    def visit_Output(self, node: nodes.Output) -> None:
        self.visit_all(node.nodes)

    def visit_TemplateData(self, node: nodes.TemplateData) -> None:
        pass

    def visit_Const(self, node: nodes.Const) -> None:
        pass

    def visit_If(self, node: nodes.If) -> None:
        self.visit_all([node.test, *node.body, *node.elif_, *node.else_])

    def visit_CondExpr(self, node: nodes.CondExpr) -> None:
        self.visit_all([node.test, node.expr1, node.expr2])

    def visit_Compare(self, node: nodes.Compare) -> None:
        self.visit_all([node.expr, *(operand.expr for operand in node.ops)])

    def visit_And(self, node: nodes.And) -> None:
        self.visit_all([node.left, node.right])

    visit_Or = visit_And

    def visit_Not(self, node: nodes.Not) -> None:
        self.visit(node.node)

    def visit_Neg(self, node: nodes.Neg) -> None:
        # A negative number is parsed as minus a constant; minus anything else is arithmetic.
        if not isinstance(node.node, nodes.Const):
            self.generic_visit(node)

    visit_Pos = visit_Neg

    def visit_Concat(self, node: nodes.Concat) -> None:
        self.visit_all(node.nodes)

    def visit_Filter(self, node: nodes.Filter) -> None:
        where = self._where(node)
        if node.name not in FILTER_NAMES:
            raise PersonalizationError(
                f"Filter {node.name}{where} is not allowed: use {', '.join(FILTER_NAMES)}"
            )
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            raise PersonalizationError(f"Filter {node.name}{where}: write its arguments out")
        self.visit_all([node.node, *node.args, *(keyword.value for keyword in node.kwargs)])

    def visit_Name(self, node: nodes.Name) -> None:
        if node.name not in NAMESPACES:
            raise self._unknown_namespace(node)
        raise PersonalizationError(
            f"Bare token {node.name}{self._where(node)}: name a property, "
            f"{self._choices(node.name)}"
        )

    def visit_Getattr(self, node: nodes.Getattr) -> None:
        self._check_property(node, node.attr)

    def visit_Getitem(self, node: nodes.Getitem) -> None:
        if not (isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str)):
            raise PersonalizationError(
                f"Token {_token(node)}{self._where(node)}: write the property's name in quotes, "
                "such as user['dog-lover']"
            )
        self._check_property(node, node.arg.value)

    def _check_property(self, node: nodes.Getattr | nodes.Getitem, name: str) -> None:
        root = _root(node)
        if not isinstance(root, nodes.Name) or root.name not in NAMESPACES:
            raise self._unknown_namespace(node)
        if node.node is not root:
            raise PersonalizationError(
                f"Token {_token(node)}{self._where(node)} goes too deep: "
                f"name one property, such as {_token(node.node)}"
            )
        known = self.properties[root.name]
        if known is not None and name not in known:
            raise PersonalizationError(
                f"Unknown token {_token(node)}{self._where(node)}: {self._choices(root.name)}"
            )

    def _unknown_namespace(self, node: nodes.Node) -> PersonalizationError:
        return PersonalizationError(
            f"Unknown token {_token(node)}{self._where(node)}: use user, device, app or event"
        )

    def _choices(self, namespace: str) -> str:
        known = self.properties[namespace]
        if known is None:
            return "such as user.id" if namespace == "user" else f"such as {namespace}.name"
        return f"{namespace} has {', '.join(known)}"

    def _where(self, node: nodes.Node) -> str:
        return f" at line {node.lineno}" if self.multiline else ""


def _root(node: nodes.Node) -> nodes.Node:
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        node = node.node
    return node


def _token(node: nodes.Node) -> str:
    """Write a node back as the author typed it, near enough to recognize."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Const):
        return repr(node.value)
    if isinstance(node, nodes.Getattr):
        return f"{_token(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_token(node.node)}[{node.arg.value!r}]"
    if isinstance(node, nodes.Getitem):
        return f"{_token(node.node)}[...]"
    if isinstance(node, nodes.Call):
        return f"{_token(node.node)}(...)"
    return "..."


def _hyphen_hint(node: nodes.Node) -> str:
    """Suggest brackets when user.dog-lover was parsed as user.dog minus lover."""
    if isinstance(node, nodes.Sub) and isinstance(node.left, nodes.Getattr):
        if isinstance(node.right, nodes.Name):
            name = f"{node.left.attr}-{node.right.name}"
            return f"; for a name with '-', write {_token(node.left.node)}['{name}']"
    return ""


# --- Rendering ----------------------------------------------------------------------------------


class _MissingValue(Undefined):
    """A value this device lacks: renders as nothing, and every comparison with it is false."""

    __slots__ = ()

    def _false(self, other: object) -> bool:
        return False

    __lt__ = __le__ = __gt__ = __ge__ = _false


class _PushTextEnvironment(SandboxedEnvironment):
    """A sandbox in which a property is a key of a namespace and nothing else is reachable."""

    def getattr(self, obj: object, attribute: str) -> object:
        return self._property(obj, attribute)

    def getitem(self, obj: object, argument: object) -> object:
        return self._property(obj, argument)

    def _property(self, namespace: object, name: object) -> object:
        # Keys only, never Python attributes: user.items must be a property, not dict.items.
        if isinstance(namespace, Mapping) and isinstance(name, str):
            value = namespace.get(name)
            if not _is_missing(value):
                return value
        return self.undefined(obj=namespace, name=name)


def _printable(value: object) -> object:
    """Write booleans as the apps send them, and whole floats without '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _default(value: object, default_value: object = "", boolean: bool = False) -> object:
    """Replace a missing value, which includes null and "" unlike Jinja's own default."""
    if _is_missing(value) or (boolean and not value):
        return default_value
    return value


def _keeping_missing(convert: Callable[..., object]) -> Callable[..., object]:
    """Let a missing value through a conversion so that a later default still applies."""

    @functools.wraps(convert)
    def converted(value: object, *args: object, **kwargs: object) -> object:
        return value if _is_missing(value) else convert(value, *args, **kwargs)

    return converted


def _replace(value: object, old: object, new: object, count: int | None = None) -> str:
    """Replace text, refusing a result past the output cap before building it."""
    text, old, new = str(value), str(old), str(new)
    found = text.count(old) if old else len(text) + 1
    if count is not None and count >= 0:
        found = min(found, count)
    if len(text) + found * (len(new) - len(old)) > MAX_OUTPUT_LENGTH:
        raise PersonalizationError(
            f"The replace filter makes more than {MAX_OUTPUT_LENGTH} characters on this device."
        )
    return text.replace(old, new, -1 if count is None else count)


def _filters() -> dict[str, Callable[..., object]]:
    text = {name: JINJA_FILTERS[name] for name in ("upper", "lower", "title", "capitalize")}
    text.update({name: JINJA_FILTERS[name] for name in ("trim", "truncate", "string")})
    numbers = {name: _keeping_missing(JINJA_FILTERS[name]) for name in ("round", "int", "float")}
    replace = _keeping_missing(_replace)
    return {"default": _default, "d": _default, "replace": replace, **text, **numbers}


def _environment() -> _PushTextEnvironment:
    environment = _PushTextEnvironment(
        autoescape=False,
        undefined=_MissingValue,
        finalize=_printable,
        keep_trailing_newline=True,
    )
    # Nothing but the context: no range, lipsum, cycler, joiner or namespace; no tests.
    environment.globals.clear()
    environment.tests.clear()
    environment.filters = _filters()
    return environment


_ENVIRONMENT = _environment()

"""Personalize notification text per device: Jinja2 expressions over user, device, app, event.

A text such as ``Hi {{ user.first_name | default('there') }}`` may read only four namespaces:

- ``user``: ``id`` (the device's user ID) and every custom property the app declares; a name
  with '-' is written ``user['dog-lover']``.
- ``device``: the columns in DEVICE_PROPERTIES.
- ``app``: ``name`` and ``display_name``.
- ``event``: the properties of the occurrence that triggered an automated notification (the
  event that started a journey), such as ``event.product_name``; empty otherwise, so such a
  token shows its default.

It may use ``{{ }}`` output, ``{% if %}``/``{% elif %}``/``{% else %}``, constants, one level of
property access, comparisons, ``and``/``or``/``not``, ``a if b else c``, concatenation with ``~``
and the filters in FILTER_NAMES. Everything else — loops, ``set``, macros, calls, imports,
arithmetic, tests, lists — is refused. ``format`` is refused too: printf-style formatting is a
second template language inside the first.

Every text does bounded work, so that no text (from the composer, the preview, the Push API or a
journey step) can stall a server or a send. A filter's sizes are whole numbers written out and
bounded (BOUNDS: rounding precision, truncate length and leeway, replace count, int base), and
every number is at most MAX_NUMBER, so each filter call is linear in a text of at most
MAX_OUTPUT_LENGTH characters. Constant expressions are not folded when compiling (the
environment is not `optimized`), so saving a text evaluates nothing. Rendering one message has
a budget: at most MAX_RENDER_WORK characters handled by filters and written out, and
RENDER_SECONDS of wall time, both checked at each filter call and each piece of output. Python
cannot stop a thread from outside, so the budget is checked between steps; the bounds keep each
step short. A text past a bound is refused when saved, naming the bound; one that still fails
at send time fails that device's delivery with the reason.

A missing value (absent, null or "" on this device) takes its ``default(...)`` or renders as
nothing, never as "None" and never as an error; comparisons with it are false. Booleans render
as ``true``/``false`` and whole floats without ``.0``. Autoescaping is off: this is push text,
and each payload renderer escapes for its own XML or JSON.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from jinja2 import Template, TemplateError, TemplateSyntaxError, Undefined, nodes
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from jinja2.utils import pass_context
from jinja2.visitor import NodeVisitor

from devices.models import Device, DeviceStatus, MobileApp

MAX_TEXT_LENGTH = 4000
# Every provider's payload is about 4 KB; a longer text could not be delivered anyway.
MAX_OUTPUT_LENGTH = 4000
# Jinja's parser and compiler recurse; a bound keeps hostile nesting from reaching Python's limit.
MAX_NESTING = 32
# Numbers written in a text: beyond 15 digits a number no longer survives a float anyway.
MAX_NUMBER = 10**15
# Digits after the point for round: round(x, 10000000, 'ceil') would compute 10**10000000.
MAX_PRECISION = 10
# Characters one message's filters may read and write, and its output: 25 times the output cap,
# far beyond any real text, still a few milliseconds.
MAX_RENDER_WORK = 25 * MAX_OUTPUT_LENGTH
# Wall time one message may take to render: a backstop behind the work count, which keeps a
# render to milliseconds; generous so that a busy machine never fails a good message.
RENDER_SECONDS = 2.0

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
# Each filter's arguments in order, as Jinja's filter takes them after the value.
PARAMETERS: dict[str, tuple[str, ...]] = {
    "default": ("default_value", "boolean"),
    "d": ("default_value", "boolean"),
    "trim": ("chars",),
    "truncate": ("length", "killwords", "end", "leeway"),
    "replace": ("old", "new", "count"),
    "round": ("precision", "method"),
    "int": ("default", "base"),
    "float": ("default",),
}
# The sizes a filter takes: each a whole number written out, between these bounds.
BOUNDS: dict[tuple[str, str], tuple[int, int]] = {
    ("round", "precision"): (-MAX_PRECISION, MAX_PRECISION),
    ("truncate", "length"): (1, MAX_OUTPUT_LENGTH),
    ("truncate", "leeway"): (0, MAX_OUTPUT_LENGTH),
    ("replace", "count"): (0, MAX_OUTPUT_LENGTH),
    ("int", "base"): (2, 36),
}
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {("round", "method"): ("common", "ceil", "floor")}

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
        with _budgeted():
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
    platforms = app.platforms()
    return made_up_context(app, platforms[0] if platforms else "ios")


def made_up_context(app: MobileApp, platform: str) -> dict[str, dict[str, object]]:
    """Give the preview a made-up device of one platform, for an app none has registered with.

    We know no user's name or properties: leaving them out shows the text's defaults.
    """
    device = {"install_id": SAMPLE_INSTALL_ID, **_SAMPLE_PLACE, **_SAMPLE_DEVICES[platform]}
    return {"user": {}, "device": device, "app": _app_values(app)}


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
        _charge(len(chunk))
        length += len(chunk)
        if length > MAX_OUTPUT_LENGTH:
            raise PersonalizationError(
                f"The text renders to more than {MAX_OUTPUT_LENGTH} characters on this device."
            )
        parts.append(chunk)
    return "".join(parts)


@dataclass
class _Budget:
    """What one message may still spend rendering: characters handled, and a deadline."""

    work: int
    deadline: float


_BUDGET: ContextVar[_Budget | None] = ContextVar("personalization_budget", default=None)


@contextmanager
def _budgeted() -> Iterator[None]:
    """Give the rendering of one message its budget; rendering in threads gets one each."""
    token = _BUDGET.set(_Budget(MAX_RENDER_WORK, time.monotonic() + RENDER_SECONDS))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def _charge(work: int) -> None:
    """Spend work from the message's budget; refuse the message once it runs out."""
    budget = _BUDGET.get()
    if budget is None:
        return
    budget.work -= work
    if budget.work < 0:
        raise PersonalizationError(
            f"The text needs too much work to render on this device (more than "
            f"{MAX_RENDER_WORK} characters handled by its filters)."
        )
    if time.monotonic() > budget.deadline:
        raise PersonalizationError(
            f"The text takes longer than {RENDER_SECONDS:g} s to render on this device."
        )


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
        value = node.value
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not (math.isfinite(value) and abs(value) <= MAX_NUMBER):
                raise PersonalizationError(
                    f"The number {_shorten(node)}{self._where(node)} is too large: numbers in "
                    f"push text are at most {MAX_NUMBER:,}"
                )

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
        self.visit(node.node)

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
        arguments = self._arguments(node)
        for name, argument in arguments.items():
            self._check_argument(node.name, name, argument, where)
        if node.name == "truncate":
            self._check_truncate_end(arguments, where)
        self.visit_all([node.node, *node.args, *(keyword.value for keyword in node.kwargs)])

    def _arguments(self, node: nodes.Filter) -> dict[str, nodes.Expr]:
        """Name a filter's arguments, refusing more of them than it takes or unknown names."""
        where = self._where(node)
        parameters = PARAMETERS.get(node.name, ())
        if len(node.args) > len(parameters):
            takes = f"at most {len(parameters)}" if parameters else "no"
            raise PersonalizationError(f"Filter {node.name}{where} takes {takes} arguments")
        named = dict(zip(parameters, node.args, strict=False))
        for keyword in node.kwargs:
            if keyword.key not in parameters or keyword.key in named:
                raise PersonalizationError(
                    f"Filter {node.name}{where} has no argument {keyword.key} to set here: "
                    f"its arguments are {', '.join(parameters) or 'none'}"
                )
            named[keyword.key] = keyword.value
        return named

    def _check_truncate_end(self, arguments: dict[str, nodes.Expr], where: str) -> None:
        """Refuse an end longer than the length, which Jinja's truncate cannot honour."""
        length = _whole_number(arguments["length"]) if "length" in arguments else 255
        end = arguments.get("end", nodes.Const("..."))
        if isinstance(end, nodes.Const) and len(str(end.value)) > length:
            raise PersonalizationError(
                f"Filter truncate{where}: its end ({len(str(end.value))} characters) is longer "
                f"than its length ({length})"
            )

    def _check_argument(self, name: str, parameter: str, argument: nodes.Expr, where: str) -> None:
        """Refuse a size outside its bounds, or one not written out, before anything runs."""
        if (name, parameter) in BOUNDS:
            low, high = BOUNDS[name, parameter]
            value = _whole_number(argument)
            if value is None or not low <= value <= high:
                raise PersonalizationError(
                    f"Filter {name}{where}: its {parameter} must be a whole number from "
                    f"{low} to {high}, written out"
                )
        if (name, parameter) in CHOICES:
            choices = CHOICES[name, parameter]
            if not (isinstance(argument, nodes.Const) and argument.value in choices):
                quoted = ", ".join(f"'{choice}'" for choice in choices)
                raise PersonalizationError(
                    f"Filter {name}{where}: its {parameter} must be one of {quoted}"
                )

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


def _whole_number(node: nodes.Expr) -> int | None:
    """Return the whole number a node writes out (such as 2 or -2), or None."""
    sign = 1
    if isinstance(node, nodes.Neg | nodes.Pos):
        sign = -1 if isinstance(node, nodes.Neg) else 1
        node = node.node
    if isinstance(node, nodes.Const) and type(node.value) is int:
        return sign * node.value
    return None


def _shorten(node: nodes.Const, limit: int = 20) -> str:
    text = str(node.value)
    return text if len(text) <= limit else f"{text[:limit]}..."


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

    # The checker refuses arithmetic; should a node slip past it, the sandbox refuses it too,
    # as Jinja's sandbox documents for operators ("intercepted_binops"): 9 ** 9 ** 9 never runs.
    intercepted_binops = frozenset(("+", "-", "*", "/", "//", "%", "**"))

    def call_binop(self, context: object, operator: str, left: object, right: object) -> object:
        raise SecurityError(f"The operator {operator} is not allowed in push text.")

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


def _truncate(
    value: object,
    length: int = 255,
    killwords: bool = False,
    end: object = "...",
    leeway: int | None = None,
) -> str:
    """Truncate text, refusing what Jinja would assert on (an end longer than the length)."""
    end = str(end)
    if len(end) > length:
        raise PersonalizationError(
            f"The truncate filter's end ({len(end)} characters) is longer than its length "
            f"({length}) on this device."
        )
    return JINJA_FILTERS["truncate"](_ENVIRONMENT, value, length, killwords, end, leeway)


def _metered(convert: Callable[..., object]) -> Callable[..., object]:
    """Charge a filter call to the message's budget: the text it reads and the text it writes.

    The filter takes the render context, which only rendering has, so Jinja never calls it
    while compiling (jinja2.nodes.Filter.as_const): even with the optimizer off, Jinja folds
    constant output such as {{ 1.5 | round(2) }} into the compiled template by calling the filter.
    """

    @pass_context
    def metered(context: Context, *args: object, **kwargs: object) -> object:
        _charge(sum(_size(argument) for argument in (*args, *kwargs.values())))
        result = convert(*args, **kwargs)
        _charge(_size(result))
        return result

    metered.__doc__ = convert.__doc__
    return metered


def _size(value: object) -> int:
    return len(value) if isinstance(value, str) else 1


def _filters() -> dict[str, Callable[..., object]]:
    text = {name: JINJA_FILTERS[name] for name in ("upper", "lower", "title", "capitalize")}
    text.update({name: JINJA_FILTERS[name] for name in ("trim", "string")})
    numbers = {name: _keeping_missing(JINJA_FILTERS[name]) for name in ("round", "int", "float")}
    replace = _keeping_missing(_replace)
    filters = {"default": _default, "d": _default, "replace": replace, "truncate": _truncate}
    return {name: _metered(convert) for name, convert in {**filters, **text, **numbers}.items()}


def _environment() -> _PushTextEnvironment:
    environment = _PushTextEnvironment(
        autoescape=False,
        undefined=_MissingValue,
        finalize=_printable,
        keep_trailing_newline=True,
        # Jinja folds constant expressions while compiling, calling filters then: a text such
        # as {{ 1.5 | round(10000000, 'ceil') }} would run when saved, before any budget.
        optimized=False,
    )
    # Nothing but the context: no range, lipsum, cycler, joiner or namespace; no tests.
    environment.globals.clear()
    environment.tests.clear()
    environment.filters = _filters()
    return environment


_ENVIRONMENT = _environment()

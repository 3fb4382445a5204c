"""The compiled query selects exactly what a plain-Python reading of the definition selects.

Hypothesis builds random devices and random well-typed definitions as a small tree of its own,
prints each tree as text in varied spellings, and compares the install ids the database returns
for compile_definition(text) with those the reference evaluator below picks. The reference knows
nothing of the compiler: it reads the tree, the device's column values and the rules of the
language (a missing value matches no comparison; '' built-ins and NULLs are missing; versions
compare by their numbers). Devices come with events, and definitions hold did(...) predicates,
which the reference answers by counting the device's events in the window up to NOW.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from random import Random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.models import Device
from devices.versions import version_key
from events.models import Event
from segments.language import compile_definition

NOW = datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)
CUSTOM = {
    "dog-lover": "boolean",
    "dog-breed": "string",
    "score": "number",
    "signup.at": "datetime",
    "tier_2": "string",
}
MISSING = object()
NULL = object()

# Built-in properties: name -> (type, Device column, longest value the column holds).
STRINGS = {
    "carrierCountry": ("carrier_country", 2),
    "model": ("device_model", 100),
    "oemName": ("oem_name", 100),
    "screenSize": ("screen_size", 20),
    "userId": ("user_id", 256),
    "platform": ("platform", 10),
    "locale": ("locale", 35),
    "language": ("language", 8),
    "timeZone": ("time_zone", 64),
}
VERSIONS = {"appVersion": "app_version", "deviceOsVersion": "device_os_version"}
DATETIMES = {"firstSeen": "first_seen", "lastSeen": "last_seen"}
TYPES = {
    **{name: "string" for name in STRINGS},
    **{name: "version" for name in VERSIONS},
    **{name: "datetime" for name in DATETIMES},
    "osApiLevel": "number",
    "pushEnabled": "boolean",
    "categories": "list",
    **CUSTOM,
}


# The reference evaluator ---------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    text: str  # as printed in the definition
    value: object  # what it means: str, int, float, bool, datetime, version tuple or NULL


@dataclass(frozen=True)
class Comparison:
    name: str
    operator: str  # eq ne lt gt le ge in notin startswith endswith contains
    values: tuple[Literal, ...]


@dataclass(frozen=True)
class Exists:
    name: str


@dataclass(frozen=True)
class Did:
    name: str
    window: Literal  # text such as 30d, and its timedelta
    count: tuple[str, int] | None  # None: the default, at least one
    where: object | None  # a tree over the event's properties


@dataclass(frozen=True)
class Not:
    operand: object


@dataclass(frozen=True)
class And:
    operands: tuple[object, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[object, ...]


def version_numbers(version: str) -> tuple[int, ...]:
    """Read a version as App Center orders it: six dotted parts by their leading digits."""
    numbers = []
    for part in version.strip().split(".")[:6]:
        digits = re.match(r"\d*", part).group()
        numbers.append(min(int(digits or "0"), 999_999))
    while numbers and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def value_of(device: dict, name: str) -> object:
    """Return a device's value of a property, or MISSING if it has none of the right type."""
    kind = TYPES[name]
    if name in STRINGS:
        value = device[STRINGS[name][0]]
        return MISSING if value in (None, "") else value
    if name in VERSIONS:
        raw = device[VERSIONS[name]]
        return MISSING if raw == "" else version_numbers(raw)
    if name in DATETIMES:
        return device[DATETIMES[name]]
    if name == "osApiLevel":
        return MISSING if device["os_api_level"] is None else device["os_api_level"]
    if name == "pushEnabled":
        return device["push_enabled"]
    if name == "categories":
        return device["categories"] or MISSING
    value = device["custom_properties"].get(name, MISSING)
    if kind == "boolean":
        return value if isinstance(value, bool) else MISSING
    if kind == "number":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else MISSING
    if not isinstance(value, str):
        return MISSING
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if kind == "datetime" else value


def holds(tree: object, device: dict) -> bool:
    """Evaluate a definition tree over one device, in two-valued logic."""
    if isinstance(tree, And):
        return all(holds(operand, device) for operand in tree.operands)
    if isinstance(tree, Or):
        return any(holds(operand, device) for operand in tree.operands)
    if isinstance(tree, Not):
        return not holds(tree.operand, device)
    if isinstance(tree, Did):
        return did(tree, device)
    value = value_of(device, tree.name)
    if isinstance(tree, Exists):
        return value is not MISSING
    literals = [literal.value for literal in tree.values]
    if literals[0] is NULL:
        return (value is MISSING) == (tree.operator == "eq")
    return value is not MISSING and compare(value, tree.operator, literals)


def did(tree: Did, device: dict) -> bool:
    """Count the device's events of the app named so, in the window up to NOW, that match."""
    since = NOW - tree.window.value
    found = sum(
        1
        for event in device["events"]
        if event["own_app"]
        and event["name"] == tree.name
        and since <= event["occurred_at"] <= NOW
        and (tree.where is None or holds_for_event(tree.where, event["properties"]))
    )
    operator, number = tree.count or ("ge", 1)
    return compare(found, operator, [number])


def holds_for_event(tree: object, properties: dict) -> bool:
    """Evaluate a where over an event's properties: each literal's JSON type is the property's."""
    if isinstance(tree, And):
        return all(holds_for_event(operand, properties) for operand in tree.operands)
    if isinstance(tree, Or):
        return any(holds_for_event(operand, properties) for operand in tree.operands)
    if isinstance(tree, Not):
        return not holds_for_event(tree.operand, properties)
    value = properties.get(tree.name)
    if isinstance(tree, Exists):
        return value is not None
    literals = [literal.value for literal in tree.values]
    if literals[0] is NULL:
        return (value is None) == (tree.operator == "eq")
    return json_type(value) == json_type(literals[0]) and compare(value, tree.operator, literals)


def json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else "other"


def compare(value: object, operator: str, literals: list[object]) -> bool:
    first = literals[0]
    match operator:
        case "eq":
            return value == first
        case "ne":
            return value != first
        case "lt":
            return value < first
        case "gt":
            return value > first
        case "le":
            return value <= first
        case "ge":
            return value >= first
        case "in":
            return value in literals
        case "notin":
            return value not in literals
        case "startswith":
            return value.startswith(first)
        case "endswith":
            return value.endswith(first)
        case "contains":
            return first in value
    raise AssertionError(operator)


# Values, shared by devices and literals so that they meet --------------------------------------

CHARACTERS = st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00")
STRING_POOL = [
    "US", "us", "CA", "FR", "a", "ab", "b", "O'Neil", "'", "%", "_", "a_b", "a%b", "\\", "é",
    "É", "e\u0301", "日本", "Z", "😀", " ", "a b", "--", ";", "ios", "android", "windows",
]  # fmt: skip
VERSION_POOL = [
    "0", "1", "1.0", "2.1", "2.1.0", "2.9", "2.10", "2.10.1", "2.01", "10", "1000000",
    "1.2.3.4.5.6.7",
]  # fmt: skip
DEVICE_VERSIONS = ["", " 2.1", "3.0-beta", "abc", "2.x.1", *VERSION_POOL]
INSTANTS = [
    NOW,
    NOW - timedelta(days=30),
    NOW - timedelta(days=1),
    NOW.replace(microsecond=0),
    datetime(2026, 1, 31, tzinfo=UTC),
    datetime(2026, 1, 31, 9, tzinfo=UTC),
    datetime(2026, 1, 31, 9, 0, 0, 500_000, tzinfo=UTC),
    datetime(2026, 2, 14, 23, 59, 59, tzinfo=UTC),
]
# Mostly the instants above, so that devices and literals meet on the same second.
MOMENTS = st.one_of(
    st.sampled_from(INSTANTS),
    st.sampled_from(INSTANTS),
    st.sampled_from(INSTANTS),
    st.datetimes(datetime(2025, 12, 1), datetime(2026, 4, 1), timezones=st.just(UTC)),
)
CATEGORIES = ["offers", "news", "Offers", "sports"]
WHOLE_SECONDS = MOMENTS.map(lambda moment: moment.replace(microsecond=0))
NUMBERS = st.one_of(st.integers(-3, 41), st.sampled_from([2.5, -0.5, 0.25, 33.5, 1.0, -0.0]))


def strings(longest: int) -> st.SearchStrategy[str]:
    """Mostly strings from the pool, so that devices and literals meet; sometimes any text."""
    pool = st.sampled_from([text for text in STRING_POOL if len(text) <= longest])
    return st.one_of(pool, pool, pool, st.text(CHARACTERS, min_size=1, max_size=min(3, longest)))


def maybe_wrong(right: st.SearchStrategy, *wrong: object) -> st.SearchStrategy:
    """A custom value: usually of its declared type, sometimes of another or JSON null."""
    return st.one_of(right, right, right, st.sampled_from([*wrong, None]))


CUSTOM_VALUES = {
    "dog-lover": maybe_wrong(st.booleans(), "true", 1, [True]),
    "dog-breed": maybe_wrong(st.one_of(st.just(""), strings(20)), 5, True),
    "tier_2": maybe_wrong(strings(20), 1.5, False),
    # A list or an object holding a number is no number (a lax JSON path would unwrap [5]).
    "score": maybe_wrong(NUMBERS, "5", True, [5], {"n": 5}),
    "signup.at": maybe_wrong(
        WHOLE_SECONDS.map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")), 5, True
    ),
}


@st.composite
def custom_properties(draw: st.DrawFn) -> dict[str, object]:
    chosen = draw(st.lists(st.sampled_from(sorted(CUSTOM_VALUES)), unique=True))
    return {name: draw(CUSTOM_VALUES[name]) for name in chosen}


def with_version_keys(device: dict) -> dict:
    device["app_version_key"] = version_key(device["app_version"])
    device["device_os_version_key"] = version_key(device["device_os_version"])
    return device


def reported(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A built-in string: '' (not reported) a third of the time."""
    return st.one_of(st.just(""), values, values)


WINDOWS = {
    "90m": timedelta(minutes=90),
    "12h": timedelta(hours=12),
    "12H": timedelta(hours=12),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "30D": timedelta(days=30),
    "365d": timedelta(days=365),
}
# Mostly on a window's edges, so that the bounds are tested: a window ends at NOW.
EVENT_MOMENTS = st.one_of(
    st.sampled_from([NOW - delta for delta in WINDOWS.values()]),
    st.sampled_from([NOW, NOW - timedelta(microseconds=1), NOW + timedelta(microseconds=1)]),
    st.datetimes(datetime(2025, 2, 1), datetime(2026, 3, 2), timezones=st.just(UTC)),
)
EVENT_NAMES = ["purchase", "app_open", "Purchase", "O'Neil"]
EVENT_PROPERTIES = {
    "amount": maybe_wrong(NUMBERS, "5", True, [5]),
    "currency": maybe_wrong(st.sampled_from(["EUR", "USD", "eur", ""]), 5, False),
    "first": maybe_wrong(st.booleans(), "true", 0),
}


@st.composite
def event_properties(draw: st.DrawFn) -> dict[str, object]:
    chosen = draw(st.lists(st.sampled_from(sorted(EVENT_PROPERTIES)), unique=True))
    return {name: draw(EVENT_PROPERTIES[name]) for name in chosen}


EVENTS = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(EVENT_NAMES),
            "occurred_at": EVENT_MOMENTS,
            "properties": event_properties(),
            # One event in ten is another app's, reported against this device: never counted.
            "own_app": st.integers(0, 9).map(bool),
        }
    ),
    max_size=6,
)

DEVICES = st.fixed_dictionaries(
    {
        **{
            column: reported(strings(longest))
            for name, (column, longest) in STRINGS.items()
            if name not in ("userId", "platform")
        },
        "user_id": st.one_of(st.none(), st.just(""), strings(40)),
        "platform": st.sampled_from(["ios", "android", "windows"]),
        "app_version": st.sampled_from(DEVICE_VERSIONS),
        "device_os_version": st.sampled_from(DEVICE_VERSIONS),
        "os_api_level": st.one_of(st.none(), st.integers(0, 40)),
        "first_seen": MOMENTS,
        "last_seen": MOMENTS,
        "push_enabled": st.booleans(),
        "categories": st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=3),
        "custom_properties": custom_properties(),
        "events": EVENTS,
    }
).map(with_version_keys)


# Definitions ---------------------------------------------------------------------------------


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def string_literal() -> st.SearchStrategy[Literal]:
    return st.one_of(st.just(""), strings(4)).map(lambda text: Literal(quoted(text), text))


TEXT_OPERATORS = ("startswith", "endswith", "contains")


def fragment_literal() -> st.SearchStrategy[Literal]:
    """A piece for startswith, endswith and contains: short, so that it often fits."""
    fragments = st.sampled_from(["U", "u", "S", "a", "A", "b", "_", "%", "'", "é", "e", "日", "😀"])
    return st.one_of(fragments, fragments, string_literal().map(lambda literal: literal.value)).map(
        lambda text: Literal(quoted(text), text)
    )


def version_literal() -> st.SearchStrategy[Literal]:
    return st.sampled_from(VERSION_POOL).map(
        lambda text: Literal(quoted(text), version_numbers(text))
    )


def number_literal() -> st.SearchStrategy[Literal]:
    return NUMBERS.map(lambda number: Literal(repr(number), number))


def boolean_literal() -> st.SearchStrategy[Literal]:
    return st.sampled_from(["true", "false", "TRUE", "False"]).map(
        lambda text: Literal(text, text.lower() == "true")
    )


@st.composite
def moment_literal(draw: st.DrawFn) -> Literal:
    """An instant, written as a date, a UTC date-time, an offset date-time, quoted or not."""
    moment = draw(MOMENTS)
    offset = draw(
        st.sampled_from([timedelta(0), timedelta(hours=2), timedelta(hours=-5, minutes=-30)])
    )
    local = moment.astimezone(timezone(offset))
    writings = [local.isoformat(), moment.replace(tzinfo=None).isoformat()]
    writings.append(moment.replace(tzinfo=None).isoformat() + draw(st.sampled_from(["Z", "z"])))
    if moment.second == moment.microsecond == 0:
        writings.append(local.strftime("%Y-%m-%dT%H:%M") + local.isoformat()[19:])
    if moment == moment.replace(hour=0, minute=0, second=0, microsecond=0):
        writings.append(moment.strftime("%Y-%m-%d"))
    text = draw(st.sampled_from(writings))
    return Literal(quoted(text) if draw(st.booleans()) else text, moment)


@st.composite
def relative_literal(draw: st.DrawFn) -> Literal:
    unit, size = draw(
        st.sampled_from(
            [("s", "seconds"), ("m", "minutes"), ("h", "hours"), ("d", "days"), ("w", "weeks")]
        )
    )
    amount = draw(st.integers(0, 60))
    sign = draw(st.sampled_from(["-", "+", ""]))
    now = draw(st.sampled_from(["now", "NOW", "Now"]))
    if not sign:
        return Literal(now, NOW)
    delta = timedelta(**{size: amount})
    return Literal(f"{now}{sign}{amount}{unit}", NOW - delta if sign == "-" else NOW + delta)


LITERALS = {
    "string": string_literal(),
    "version": version_literal(),
    "number": number_literal(),
    "boolean": boolean_literal(),
    "datetime": st.one_of(moment_literal(), moment_literal(), relative_literal()),
    "list": st.sampled_from([*CATEGORIES, "offer", ""]).map(
        lambda text: Literal(quoted(text), text)
    ),
}
OPERATORS = {
    "string": [
        "eq",
        "ne",
        "lt",
        "gt",
        "le",
        "ge",
        "in",
        "notin",
        "startswith",
        "endswith",
        "contains",
    ],
    "version": ["eq", "ne", "lt", "gt", "le", "ge", "in", "notin"],
    "number": ["eq", "ne", "lt", "gt", "le", "ge"],
    "datetime": ["eq", "ne", "lt", "gt", "le", "ge"],
    "boolean": ["eq", "ne"],
    "list": ["contains"],
}


@st.composite
def comparison(draw: st.DrawFn) -> Comparison:
    name = draw(st.sampled_from(sorted(TYPES)))
    kind = TYPES[name]
    if draw(st.integers(0, 9)) == 0:
        return Comparison(name, draw(st.sampled_from(["eq", "ne"])), (Literal("null", NULL),))
    operator = draw(st.sampled_from(OPERATORS[kind]))
    count = draw(st.integers(1, 4)) if operator in ("in", "notin") else 1
    literals = (
        fragment_literal() if kind == "string" and operator in TEXT_OPERATORS else LITERALS[kind]
    )
    values = draw(st.lists(literals, min_size=count, max_size=count))
    return Comparison(name, operator, tuple(values))


EVENT_TYPES = {"amount": "number", "currency": "string", "first": "boolean"}


@st.composite
def event_comparison(draw: st.DrawFn) -> Comparison:
    """A test of an event property, mostly with a literal of the type it usually holds."""
    name = draw(st.sampled_from(sorted(EVENT_TYPES)))
    if draw(st.integers(0, 9)) == 0:
        return Comparison(name, draw(st.sampled_from(["eq", "ne"])), (Literal("null", NULL),))
    kind = (
        EVENT_TYPES[name]
        if draw(st.integers(0, 3))
        else draw(st.sampled_from(["string", "number", "boolean"]))
    )
    operator = draw(st.sampled_from(OPERATORS[kind]))
    count = draw(st.integers(1, 3)) if operator in ("in", "notin") else 1
    literals = {
        "string": st.sampled_from(["EUR", "USD", "eur", "", "E", "5"]).map(
            lambda text: Literal(quoted(text), text)
        ),
        "number": number_literal(),
        "boolean": boolean_literal(),
    }[kind]
    return Comparison(
        name, operator, tuple(draw(st.lists(literals, min_size=count, max_size=count)))
    )


WHERES = st.recursive(
    st.one_of(
        event_comparison(), event_comparison(), st.sampled_from(sorted(EVENT_TYPES)).map(Exists)
    ),
    lambda children: st.one_of(
        children.map(Not),
        st.lists(children, min_size=2, max_size=3).map(lambda items: And(tuple(items))),
        st.lists(children, min_size=2, max_size=3).map(lambda items: Or(tuple(items))),
    ),
    max_leaves=4,
)
DIDS = st.builds(
    Did,
    name=st.sampled_from(EVENT_NAMES),
    window=st.sampled_from(sorted(WINDOWS)).map(lambda text: Literal(text, WINDOWS[text])),
    count=st.one_of(
        st.none(),
        st.tuples(st.sampled_from(["eq", "ne", "lt", "gt", "le", "ge"]), st.integers(0, 3)),
    ),
    where=st.one_of(st.none(), WHERES),
)
LEAVES = st.one_of(comparison(), comparison(), st.sampled_from(sorted(TYPES)).map(Exists), DIDS)
DEFINITIONS = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        children.map(Not),
        st.lists(children, min_size=2, max_size=3).map(lambda items: And(tuple(items))),
        st.lists(children, min_size=2, max_size=3).map(lambda items: Or(tuple(items))),
    ),
    max_leaves=8,
)


class Printer:
    """Write a tree as a definition, varying case, symbols, spacing and parentheses."""

    SYMBOLS = {"eq": "=", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
    PRECEDENCE = {Or: 1, And: 2, Not: 3}

    def __init__(self, random: Random) -> None:
        self.random = random

    def keyword(self, word: str) -> str:
        return self.random.choice([word, word.upper(), word.capitalize()])

    def space(self) -> str:
        return self.random.choice([" ", " ", " ", "  ", "\n", "\t"])

    def write(self, tree: object, needed: int = 0) -> str:
        precedence = self.PRECEDENCE.get(type(tree), 4)
        if isinstance(tree, Or | And):
            joiner = self.space() + self.keyword("or" if isinstance(tree, Or) else "and") + " "
            text = joiner.join(self.write(operand, precedence) for operand in tree.operands)
        elif isinstance(tree, Not):
            text = self.keyword("not") + self.space() + self.write(tree.operand, precedence)
        elif isinstance(tree, Exists):
            text = f"{self.keyword('exists')}({tree.name})"
        elif isinstance(tree, Did):
            text = self.did(tree)
        else:
            text = self.comparison(tree)
        if precedence < needed or self.random.random() < 0.1:
            return f"({text})"
        return text

    def did(self, tree: Did) -> str:
        """Write did(...) with its clauses in any order, the count in words or symbols."""
        clauses = [f"{self.keyword('within')} {tree.window.text}"]
        if tree.count is not None:
            operator, number = tree.count
            if self.random.random() < 0.5:
                operator = self.SYMBOLS[operator]
            clauses.append(f"{self.keyword('count')} {self.keyword(operator)} {number}")
        if tree.where is not None:
            clauses.append(f"{self.keyword('where')}{self.space()}{self.write(tree.where)}")
        self.random.shuffle(clauses)
        name = quoted(tree.name)
        return f"{self.keyword('did')}({name}, " + f",{self.space()}".join(clauses) + ")"

    def comparison(self, tree: Comparison) -> str:
        if tree.operator in ("in", "notin"):
            values = ", ".join(literal.text for literal in tree.values)
            operator = self.keyword("in") if tree.operator == "in" else self.keyword("not in")
            return f"{tree.name} {operator} ({values})"
        operator = tree.operator
        if operator in self.SYMBOLS and self.random.random() < 0.5:
            spaced = self.random.random() < 0.7
            gap = " " if spaced or tree.values[0].text.startswith("-") else ""
            return f"{tree.name}{gap}{self.SYMBOLS[operator]}{gap}{tree.values[0].text}"
        return (
            f"{tree.name}{self.space()}{self.keyword(operator)}{self.space()}{tree.values[0].text}"
        )


# The tests -----------------------------------------------------------------------------------


def subtrees(tree: object) -> list[object]:
    """List a tree and every tree inside it, so each part is checked on its own."""
    if isinstance(tree, And | Or):
        return [tree, *(part for operand in tree.operands for part in subtrees(operand))]
    if isinstance(tree, Not):
        return [tree, *subtrees(tree.operand)]
    return [tree]


def store(app: object, devices: list[dict], other_app: object) -> None:
    """Store the devices of one example, each with its events (some filed under other_app)."""
    Device.objects.filter(app=app).delete()
    stored = Device.objects.bulk_create(
        Device(app=app, install_id=uuid.UUID(int=number), **without_events(columns))
        for number, columns in enumerate(devices, start=1)
    )
    Event.objects.bulk_create(
        Event(
            app=app if event["own_app"] else other_app,
            device=device,
            name=event["name"],
            occurred_at=event["occurred_at"],
            properties=event["properties"],
        )
        for device, columns in zip(stored, devices, strict=True)
        for event in columns["events"]
    )


def without_events(columns: dict) -> dict:
    return {name: value for name, value in columns.items() if name != "events"}


def assert_selects_what_the_reference_selects(
    app: object, devices: list[dict], tree: object, printer: Printer
) -> None:
    definition = printer.write(tree)
    expected = {number for number, columns in enumerate(devices, start=1) if holds(tree, columns)}

    condition = compile_definition(definition, CUSTOM, now=NOW)
    found = Device.objects.filter(app=app).filter(condition).values_list("install_id", flat=True)

    assert {install.int for install in found} == expected, definition


SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@settings(SETTINGS, max_examples=150)
@given(
    devices=st.lists(DEVICES, min_size=20, max_size=40),
    tree=DEFINITIONS,
    random=st.randoms(use_true_random=False),
)
def test_a_definition_and_each_of_its_parts_select_what_the_reference_selects(
    retail, news, devices, tree, random
):
    store(retail, devices, news)
    printer = Printer(random)
    for part in subtrees(tree):
        assert_selects_what_the_reference_selects(retail, devices, part, printer)


@settings(SETTINGS, max_examples=100)
@given(
    devices=st.lists(DEVICES, min_size=20, max_size=40),
    leaves=st.lists(LEAVES, min_size=15, max_size=25),
    random=st.randoms(use_true_random=False),
)
def test_each_comparison_and_its_negation_select_what_the_reference_selects(
    retail, news, devices, leaves, random
):
    store(retail, devices, news)
    printer = Printer(random)
    for leaf in leaves:
        assert_selects_what_the_reference_selects(retail, devices, leaf, printer)
        assert_selects_what_the_reference_selects(retail, devices, Not(leaf), printer)

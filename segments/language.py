"""The audience language: parse a segment's definition and compile it to one Q over Device.

    carrierCountry eq 'US' and (appVersion ge '2.10' or dog-lover eq true)

Grammar; keywords are case-insensitive, property names are not:

    definition := any END
    any        := all ("or" all)*
    all        := unary ("and" unary)*
    unary      := "not" unary | "(" any ")" | "exists" "(" NAME ")" | did | NAME test
    test       := COMPARISON value | ["not"] "in" "(" value ("," value)* ")"
                | ("startswith" | "endswith" | "contains") value
    COMPARISON := eq | ne | lt | gt | le | ge | = | != | < | > | <= | >=
    value      := 'string' | number | true | false | null | date | date-time
                | now | now(+|-)N(s|m|h|d|w)
    did        := "did" "(" 'event name' ("," clause)* ")"
    clause     := "within" N(m|h|d) | "count" COMPARISON N | "where" any

A behaviour predicate asks what the device's person did: `did('purchase', within 30d, count ge
2, where amount ge 20 and currency eq 'EUR')` holds for a device with at least two purchase
events of the app in the 30 days up to now whose properties match the where. `within` is
required (1m to 365d); `count` defaults to `ge 1`, so `not did('app_open', within 7d)` holds for
a device without one. Inside where, names are the event's top-level property keys, and each
comparison's literal gives its type (string, number or boolean); exists(key) asks for any
non-null value. Each clause appears once, a definition holds at most MAX_EVENT_PREDICATES, and a
did(...) cannot stand inside another's where.

A device lacks a property when a built-in string is '' (not reported), a nullable column is
NULL, or a custom key is absent or holds a value of another JSON type. The logic is two-valued:
a device that lacks a property matches no comparison on it, `ne` and `not in` included, so
`not (x eq 'a')` holds for it; `x eq null` means it lacks x. SQL's NULL would break that under
NOT, so every comparison compiles with an explicit presence condition that is never NULL.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import NotSupportedError, connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    Expression,
    F,
    Func,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, Collate, Left, Right, StrIndex
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    LessThan,
    LessThanOrEqual,
)
from django.utils import timezone

from devices.models import Device
from devices.versions import version_key
from events.models import Event
from segments.properties import (
    BUILT_IN_COLUMNS,
    BUILT_IN_PROPERTIES,
    CUSTOM_TYPES,
    PropertyInfo,
    available_properties,
    find_property,
)

__all__ = [
    "BUILT_IN_PROPERTIES",
    "DefinitionError",
    "PropertyInfo",
    "available_properties",
    "check_definition",
    "compile_definition",
]

MAX_LENGTH = 4000
MAX_DEPTH = 50
MAX_LIST_ITEMS = 1000
# Beyond 15 digits a decimal no longer survives the round trip through a float, and SQLite
# compares JSON numbers as floats.
MAX_NUMBER_DIGITS = 15
# A relative time reaches at most a century either way, and a date stops a year short of the
# calendar's end (datetime's and Django's is 9999): now plus any offset then stays inside it
# for thousands of years, so a definition that compiles today compiles every day after.
MAX_RELATIVE = timedelta(days=36525)
LAST_YEAR = 9998
# Each did(...) is one subquery over the app's events: a handful keeps a count cheap.
MAX_EVENT_PREDICATES = 10
MAX_WINDOW = timedelta(days=365)
MAX_EVENT_COUNT = 10_000
MAX_EVENT_NAME = 128  # events.models.Event.name


class DefinitionError(ValueError):
    """A definition that does not parse or type-check: where, what was there, what would do."""

    def __init__(
        self, definition: str, offset: int, *, expected: str, found: str, message: str = ""
    ) -> None:
        self.offset = offset
        self.line = definition.count("\n", 0, offset) + 1
        self.column = offset - definition.rfind("\n", 0, offset)
        self.expected = expected
        self.found = found
        self.message = message or f"expected {expected}, found {found}"
        super().__init__(f"line {self.line}, column {self.column}: {self.message}")


def check_definition(definition: str, custom_property_types: dict[str, str]) -> None:
    """Raise DefinitionError if the definition does not parse or does not type-check."""
    # Compiling builds a Q without touching the database; it also catches relative times that
    # leave the calendar, so whatever checks here compiles later.
    compile_definition(definition, custom_property_types)


def compile_definition(
    definition: str,
    custom_property_types: dict[str, str],
    *,
    now: datetime | None = None,
    vendor: str | None = None,
) -> Q:
    """Return one Q over devices.models.Device (the caller adds app=...).

    `now` anchors relative times (default timezone.now()); `vendor` defaults to
    django.db.connection.vendor.
    """
    tree = _Checker(definition, custom_property_types).check(_Parser(definition).parse())
    now = now or timezone.now()
    if timezone.is_naive(now):
        now = timezone.make_aware(now, UTC)
    return _Compiler(definition, now, vendor or connection.vendor).compile(tree)


# ---------------------------------------------------------------------------------------------
# Tokens

_SPACE = re.compile(r"\s*")
# Words hold names, keywords, numbers, dates and relative times alike; the parser tells them
# apart by where they stand.
_WORD = re.compile(r"-?[A-Za-z0-9_][A-Za-z0-9_.:+-]*")
_STRING = re.compile(r"'(?:[^']|'')*'")
_SYMBOL = re.compile(r"<=|>=|!=|[=<>(),]")


@dataclass(frozen=True)
class _Token:
    kind: str  # word, string, symbol, end, or char (one character nothing accepts)
    text: str
    offset: int

    def describe(self) -> str:
        if self.kind == "end":
            return "end of definition"
        if self.kind == "string":
            return f"the string {_shorten(self.text)}"
        if self.text == "\x00":
            return "the NUL character"
        return f"'{_shorten(self.text)}'"


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tokens(definition: str) -> Iterator[_Token]:
    """Yield the definition's tokens, then one end token; an unclosed string raises."""
    offset = _SPACE.match(definition).end()
    while offset < len(definition):
        if definition[offset] == "'":
            match = _STRING.match(definition, offset)
            if match is None:
                raise DefinitionError(
                    definition,
                    offset,
                    expected="' to close the string that starts here",
                    found="end of definition",
                )
            kind = "string"
        else:
            match = _WORD.match(definition, offset) or _SYMBOL.match(definition, offset)
            kind = "word" if match and match.re is _WORD else "symbol"
        if match is None:
            yield _Token("char", definition[offset], offset)
            return
        yield _Token(kind, match.group(), offset)
        offset = _SPACE.match(definition, match.end()).end()
    yield _Token("end", "", len(definition))


# ---------------------------------------------------------------------------------------------
# The parsed definition

_ORDERED = ("lt", "gt", "le", "ge")


@dataclass(frozen=True)
class _Literal:
    kind: str  # string, number, boolean, null, moment, relative
    value: object  # str, Decimal, bool, None, an aware datetime, a timedelta from now
    text: str
    offset: int

    def describe(self) -> str:
        if self.kind == "string":
            return f"the string {_shorten(self.text)}"
        if self.kind == "number":
            return f"the number {self.text}"
        if self.kind == "moment":
            return f"the {'date-time' if 'T' in self.text.upper() else 'date'} {self.text}"
        return self.text.lower() if self.kind in ("boolean", "null") else self.text


@dataclass(frozen=True)
class _Test:
    name: str
    offset: int
    operator: str  # eq ne lt gt le ge in notin startswith endswith contains
    operator_text: str
    operator_offset: int
    values: tuple[_Literal, ...]


@dataclass(frozen=True)
class _Exists:
    name: str
    offset: int


@dataclass(frozen=True)
class _Did:
    """did(...) as parsed; once checked, `where` holds the event tree with its types."""

    name: str
    offset: int
    window: timedelta
    count: tuple[str, int]  # an operator (eq ne lt gt le ge) and a number of events
    where: object | None


@dataclass(frozen=True)
class _Not:
    operand: object


@dataclass(frozen=True)
class _All:
    operands: tuple[object, ...]


@dataclass(frozen=True)
class _Any:
    operands: tuple[object, ...]


# ---------------------------------------------------------------------------------------------
# Parsing

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_OPERATOR_WORDS = {
    "eq": "eq",
    "ne": "ne",
    "lt": "lt",
    "gt": "gt",
    "le": "le",
    "ge": "ge",
    "=": "eq",
    "!=": "ne",
    "<": "lt",
    ">": "gt",
    "<=": "le",
    ">=": "ge",
    "in": "in",
    "startswith": "startswith",
    "endswith": "endswith",
    "contains": "contains",
}
_EXPECTED_TEST = "a property name, not, exists or ("
_EXPECTED_OPERATOR = (
    "a comparison operator (eq, ne, lt, gt, le, ge, =, !=, <, >, <=, >=, in, not in, "
    "startswith, endswith or contains)"
)
_EXPECTED_VALUE = (
    "a value (a 'quoted string', a number, true, false, null, a date such as 2026-01-31, "
    "a date-time such as 2026-01-31T09:00:00Z, or now-30d)"
)
_NUMBER = re.compile(r"-?(\d+)(?:\.(\d+))?")
_WINDOW = re.compile(r"(\d{1,6})([mhdMHD])")
_MAX_WINDOW_TEXT = "365d"
_COUNT_OPERATORS = ("eq", "ne", *_ORDERED)
_EXPECTED_COUNT_OPERATOR = "a comparison operator (eq, ne, lt, gt, le, ge, =, !=, <, >, <=, >=)"
_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[Tt]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:[Zz]|[+-]\d{2}:\d{2})?)?"
)
_RELATIVE = re.compile(r"(?i:now)(?:([+-])(\d{1,9})([smhdw]))?")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class _Parser:
    """A recursive-descent parser over the grammar in the module docstring."""

    def __init__(self, definition: str) -> None:
        self.definition = definition
        self._tokens = _tokens(definition)
        self.token = _Token("end", "", 0)
        self.following: _Token | None = None
        self.depth = 0
        self.event_predicates = 0
        self.in_where = False

    def parse(self) -> object:
        _check_length(self.definition)
        if "\x00" in self.definition:
            offset = self.definition.index("\x00")
            raise self.error(offset, "a character other than NUL", "the NUL character")
        self.advance()
        tree = self.any()
        if self.token.kind != "end":
            raise self.unexpected("and, or or end of definition")
        return tree

    def advance(self) -> _Token:
        current, self.token = self.token, self.following or next(self._tokens)
        self.following = None
        return current

    def peek(self) -> _Token:
        """Return the token after the current one (did is a keyword only before a "(")."""
        if self.following is None:
            self.following = next(self._tokens)
        return self.following

    def error(self, offset: int, expected: str, found: str, message: str = "") -> DefinitionError:
        return DefinitionError(
            self.definition, offset, expected=expected, found=found, message=message
        )

    def unexpected(self, expected: str) -> DefinitionError:
        return self.error(self.token.offset, expected, self.token.describe())

    def at_keyword(self, *keywords: str) -> bool:
        return self.token.kind == "word" and self.token.text.lower() in keywords

    def at_symbol(self, symbol: str) -> bool:
        return self.token.kind == "symbol" and self.token.text == symbol

    def expect_symbol(self, symbol: str, expected: str) -> None:
        if not self.at_symbol(symbol):
            raise self.unexpected(expected)
        self.advance()

    @contextmanager
    def nested(self, start: _Token) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                start.offset,
                f"at most {MAX_DEPTH} levels of parentheses and not",
                f"'{start.text}' at level {self.depth}",
                f"the definition nests deeper than {MAX_DEPTH} levels of parentheses and not",
            )
        yield
        self.depth -= 1

    def any(self) -> object:
        operands = [self.all()]
        while self.at_keyword("or"):
            self.advance()
            operands.append(self.all())
        return operands[0] if len(operands) == 1 else _Any(tuple(operands))

    def all(self) -> object:
        operands = [self.unary()]
        while self.at_keyword("and"):
            self.advance()
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else _All(tuple(operands))

    def unary(self) -> object:
        if self.at_keyword("not"):
            start = self.advance()
            with self.nested(start):
                return _Not(self.unary())
        if self.at_symbol("("):
            start = self.advance()
            with self.nested(start):
                tree = self.any()
            self.expect_symbol(")", "and, or or )")
            return tree
        if self.at_keyword("exists"):
            return self.exists()
        if self.at_keyword("did") and self.peek().text == "(":
            return self.did()
        return self.test()

    def exists(self) -> _Exists:
        self.advance()
        self.expect_symbol("(", "( after exists")
        name = self.name("a property name")
        self.expect_symbol(")", ") to close exists(")
        return _Exists(name.text, name.offset)

    def did(self) -> _Did:
        start = self.advance()
        self.count_event_predicate(start)
        self.advance()
        name = self.event_name()
        clauses: dict[str, object] = {}
        while self.at_symbol(","):
            self.advance()
            clause = self.token
            if not self.at_keyword(*_CLAUSES):
                raise self.unexpected("within, count or where")
            word = clause.text.lower()
            if word in clauses:
                raise self.error(
                    clause.offset,
                    "one " + word,
                    f"a second '{clause.text}'",
                    f"did(...) takes one {word} clause; this is a second",
                )
            self.advance()
            clauses[word] = _CLAUSES[word](self)
        if not self.at_symbol(")"):
            raise self.unexpected(", or ) to close did(")
        if "within" not in clauses:
            raise self.error(
                self.token.offset,
                ", within and a window such as 30d",
                "')'",
                f"did(...) needs a window: add , within 30d (at most {_MAX_WINDOW_TEXT})",
            )
        self.advance()
        count = clauses.get("count", ("ge", 1))
        return _Did(name.value, name.offset, clauses["within"], count, clauses.get("where"))

    def count_event_predicate(self, start: _Token) -> None:
        if self.in_where:
            raise self.error(
                start.offset,
                "a comparison of the event's properties",
                "did(",
                "did(...) cannot stand inside another did(...)'s where",
            )
        self.event_predicates += 1
        if self.event_predicates > MAX_EVENT_PREDICATES:
            raise self.error(
                start.offset,
                f"at most {MAX_EVENT_PREDICATES} did(...) in a definition",
                f"did number {self.event_predicates}",
                f"a definition holds at most {MAX_EVENT_PREDICATES} did(...)",
            )

    def event_name(self) -> _Literal:
        token = self.token
        length = len(token.text) - 2
        if token.kind != "string" or not 0 < length <= MAX_EVENT_NAME:
            raise self.unexpected(
                f"an event name of 1 to {MAX_EVENT_NAME} characters in quotes such as 'purchase'"
            )
        return self.value()

    def within(self) -> timedelta:
        token = self.token
        match = _WINDOW.fullmatch(token.text) if token.kind == "word" else None
        window = timedelta(**{_UNITS[match[2].lower()]: int(match[1])}) if match else None
        if not window or window > MAX_WINDOW:
            raise self.unexpected(f"a window from 1m to {_MAX_WINDOW_TEXT} such as 30d, 12h or 90m")
        self.advance()
        return window

    def count(self) -> tuple[str, int]:
        operator_token = self.token
        operator = self.operator()
        if operator not in _COUNT_OPERATORS:
            raise self.error(
                operator_token.offset, _EXPECTED_COUNT_OPERATOR, f"'{operator_token.text}'"
            )
        token = self.token
        if token.kind != "word" or not token.text.isdigit() or int(token.text) > MAX_EVENT_COUNT:
            raise self.unexpected(f"a whole number of events from 0 to {MAX_EVENT_COUNT:,}")
        self.advance()
        return operator, int(token.text)

    def where(self) -> object:
        self.in_where = True
        tree = self.any()
        self.in_where = False
        return tree

    def name(self, expected: str) -> _Token:
        reserved = self.at_keyword("and", "or", "not")
        if self.token.kind != "word" or reserved or not _NAME.fullmatch(self.token.text):
            raise self.unexpected(expected)
        return self.advance()

    def test(self) -> _Test:
        name = self.name(_EXPECTED_TEST)
        operator_token = self.token
        operator = self.operator()
        if operator in ("in", "notin"):
            values = self.value_list()
        else:
            values = (self.value(),)
        return _Test(
            name.text,
            name.offset,
            operator,
            operator_token.text,
            operator_token.offset,
            values,
        )

    def operator(self) -> str:
        if self.at_keyword("not"):
            self.advance()
            if not self.at_keyword("in"):
                raise self.unexpected("in after not")
            self.advance()
            return "notin"
        word = self.token.text.lower() if self.token.kind in ("word", "symbol") else ""
        if word not in _OPERATOR_WORDS:
            raise self.unexpected(_EXPECTED_OPERATOR)
        self.advance()
        return _OPERATOR_WORDS[word]

    def value_list(self) -> tuple[_Literal, ...]:
        self.expect_symbol("(", "( to start the list of values")
        values = [self.value()]
        while self.at_symbol(","):
            comma = self.advance()
            if len(values) == MAX_LIST_ITEMS:
                raise self.error(
                    comma.offset,
                    f") after at most {MAX_LIST_ITEMS:,} values",
                    f"value number {MAX_LIST_ITEMS + 1:,}",
                    f"a list holds at most {MAX_LIST_ITEMS:,} values",
                )
            values.append(self.value())
        self.expect_symbol(")", ", or ) to close the list")
        return tuple(values)

    def value(self) -> _Literal:
        token = self.token
        if token.kind == "string":
            self.advance()
            return _Literal("string", token.text[1:-1].replace("''", "'"), token.text, token.offset)
        literal = self.word_literal(token) if token.kind == "word" else None
        if literal is None:
            raise self.unexpected(_EXPECTED_VALUE)
        self.advance()
        return literal

    def word_literal(self, token: _Token) -> _Literal | None:
        text, offset = token.text, token.offset
        lowered = text.lower()
        if lowered in ("true", "false"):
            return _Literal("boolean", lowered == "true", text, offset)
        if lowered == "null":
            return _Literal("null", None, text, offset)
        if _RELATIVE.fullmatch(text):
            return _Literal("relative", self.relative(token), text, offset)
        if _NUMBER.fullmatch(text):
            return _Literal("number", self.number(token), text, offset)
        if _MOMENT.fullmatch(text):
            return _Literal("moment", self.moment(token), text, offset)
        return None

    def relative(self, token: _Token) -> timedelta:
        sign, amount, unit = _RELATIVE.fullmatch(token.text).groups()
        if amount is None:
            return timedelta()
        try:
            delta = timedelta(**{_UNITS[unit]: int(amount)})
        except OverflowError:
            delta = None
        if delta is None or delta > MAX_RELATIVE:
            raise self.error(
                token.offset,
                "a relative time within 100 years of now, such as now-30d or now+8760h",
                f"'{_shorten(token.text)}'",
            )
        return -delta if sign == "-" else delta

    def number(self, token: _Token) -> Decimal:
        whole, fraction = _NUMBER.fullmatch(token.text).groups()
        if len(whole) + len(fraction or "") > MAX_NUMBER_DIGITS:
            raise self.error(
                token.offset,
                f"a number of at most {MAX_NUMBER_DIGITS} digits",
                f"the number {_shorten(token.text)}",
            )
        return Decimal(token.text)

    def moment(self, token: _Token) -> datetime:
        moment = _parse_moment(token.text)
        if moment is None:
            raise self.error(
                token.offset,
                "a real date such as 2026-01-31 or date-time such as 2026-01-31T09:00:00Z",
                f"'{token.text}'",
            )
        if moment.year > LAST_YEAR:
            raise self.error(token.offset, _IN_CALENDAR, f"'{_shorten(token.text)}'")
        return moment


_IN_CALENDAR = f"a time between the years 1 and {LAST_YEAR}"
_CLAUSES = {"within": _Parser.within, "count": _Parser.count, "where": _Parser.where}


def _check_length(definition: str) -> None:
    if len(definition) > MAX_LENGTH:
        raise DefinitionError(
            definition,
            MAX_LENGTH,
            expected=f"at most {MAX_LENGTH:,} characters",
            found=f"{len(definition):,} characters",
            message=f"a definition has at most {MAX_LENGTH:,} characters; "
            f"this one has {len(definition):,}",
        )


def _parse_moment(text: str) -> datetime | None:
    """Return an ISO 8601 date or date-time as an aware UTC datetime, or None if it is not one.

    A date means its midnight; a date-time without an offset is in UTC, as devices report them.
    """
    if not _MOMENT.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


# ---------------------------------------------------------------------------------------------
# Type checking: the tree with each property resolved and each literal in its property's type

_OPERATORS = {
    "string": ("eq", "ne", *_ORDERED, "in", "notin", "startswith", "endswith", "contains"),
    "version": ("eq", "ne", *_ORDERED, "in", "notin"),
    "number": ("eq", "ne", *_ORDERED),
    "datetime": ("eq", "ne", *_ORDERED),
    "boolean": ("eq", "ne"),
    "list": ("contains",),
}
_OPERATOR_NAMES = {"notin": "not in"}
_WANTED = {
    "string": "a 'quoted string'",
    "version": "a quoted version of digits and dots such as '2.1'",
    "number": "a number such as 34",
    "boolean": "true or false",
    "datetime": "a date, a date-time or a relative time such as 2026-01-31, "
    "2026-01-31T09:00:00Z or now-30d",
    "list": "a 'quoted string'",
}
_TYPE_PHRASES = {"list": "a list of strings"}
_LITERAL_KINDS = {
    "string": "string",
    "version": "string",
    "list": "string",
    "number": "number",
    "boolean": "boolean",
}
_VERSION = re.compile(r"\d+(?:\.\d+)*")


@dataclass(frozen=True)
class _Property:
    name: str
    type: str
    custom: bool


@dataclass(frozen=True)
class _Relative:
    """A time relative to the compile's `now`; the offset reports one that leaves the calendar."""

    delta: timedelta
    text: str
    offset: int


@dataclass(frozen=True)
class _Has:
    property: _Property


@dataclass(frozen=True)
class _Compare:
    property: _Property
    operator: str
    values: tuple[object, ...]  # str, Decimal, bool, datetime or _Relative; version keys


class _Checker:
    """Resolve each property of a parsed definition and check its operators and literals."""

    def __init__(self, definition: str, custom_property_types: dict[str, str]) -> None:
        self.definition = definition
        self.custom_property_types = custom_property_types

    def check(self, tree: object) -> object:
        if isinstance(tree, _All | _Any):
            return type(tree)(tuple(self.check(operand) for operand in tree.operands))
        if isinstance(tree, _Not):
            return _Not(self.check(tree.operand))
        if isinstance(tree, _Exists):
            return _Has(self.property(tree.name, tree.offset))
        if isinstance(tree, _Did):
            where = tree.where and _EventChecker(self.definition).check(tree.where)
            return replace(tree, where=where)
        return self.test(tree)

    def test(self, test: _Test) -> object:
        prop = self.property(test.name, test.offset)
        if test.operator in ("eq", "ne") and test.values[0].kind == "null":
            # eq null: the device lacks the property; ne null: it has it.
            return _Not(_Has(prop)) if test.operator == "eq" else _Has(prop)
        if test.operator not in _OPERATORS[prop.type]:
            raise self.wrong_operator(prop, test)
        values = tuple(self.value(prop, literal) for literal in test.values)
        return _Compare(prop, test.operator, values)

    def property(self, name: str, offset: int) -> _Property:
        info = find_property(name, self.custom_property_types)
        if info is None:
            raise self.unknown(name, offset)
        if info.type not in (*CUSTOM_TYPES, "version", "list"):
            raise self.error(
                offset,
                f"a property declared {', '.join(CUSTOM_TYPES[:-1])} or {CUSTOM_TYPES[-1]}",
                f"'{name}' declared {info.type!r}",
                f"{name} is declared with the unknown type {info.type!r}",
            )
        return _Property(name, info.type, name not in BUILT_IN_COLUMNS)

    def value(self, prop: _Property, literal: _Literal) -> object:
        if prop.type == "datetime":
            return self.moment(prop, literal)
        if literal.kind != _LITERAL_KINDS[prop.type]:
            raise self.wrong_type(prop, literal)
        if prop.type != "version":
            return literal.value
        if not _VERSION.fullmatch(literal.value):
            raise self.wrong_type(prop, literal)
        return version_key(literal.value)

    def moment(self, prop: _Property, literal: _Literal) -> datetime | _Relative:
        if literal.kind == "relative":
            return _Relative(literal.value, literal.text, literal.offset)
        if literal.kind == "moment":
            return literal.value
        # A quoted ISO date or date-time is accepted where a datetime is expected.
        moment = _parse_moment(literal.value) if literal.kind == "string" else None
        if moment is None:
            raise self.wrong_type(prop, literal)
        if moment.year > LAST_YEAR:
            found = f"'{_shorten(literal.value)}'"
            raise self.error(literal.offset, _IN_CALENDAR, found, f"expected {_IN_CALENDAR}")
        return moment

    def unknown(self, name: str, offset: int) -> DefinitionError:
        names = [info.name for info in available_properties(self.custom_property_types)]
        suggestion = _nearest(name, names)
        hint = f"; did you mean {suggestion}?" if suggestion else ""
        return self.error(
            offset,
            f"a property name such as {suggestion or 'carrierCountry'}",
            f"'{_shorten(name)}'",
            f"unknown property '{_shorten(name)}'{hint}",
        )

    def wrong_operator(self, prop: _Property, test: _Test) -> DefinitionError:
        allowed = [_OPERATOR_NAMES.get(op, op) for op in _OPERATORS[prop.type]]
        expected = (
            ", ".join(allowed[:-1]) + f" or {allowed[-1]}" if len(allowed) > 1 else allowed[0]
        )
        if prop.type == "list":
            expected += f" (or exists({prop.name}))"
        found = "not in" if test.operator == "notin" else test.operator_text
        return self.error(
            test.operator_offset,
            expected,
            f"'{found}'",
            f"{prop.name} is {_type_phrase(prop.type)}: expected {expected}, found '{found}'",
        )

    def wrong_type(self, prop: _Property, literal: _Literal) -> DefinitionError:
        expected = _WANTED[prop.type]
        return self.error(
            literal.offset,
            expected,
            literal.describe(),
            f"{prop.name} is {_type_phrase(prop.type)}: "
            f"expected {expected}, found {literal.describe()}",
        )

    def error(self, offset: int, expected: str, found: str, message: str) -> DefinitionError:
        return DefinitionError(
            self.definition, offset, expected=expected, found=found, message=message
        )


class _EventChecker(_Checker):
    """Check a did(...)'s where: an event's properties take the type of the literal beside them.

    Events declare no types, so `amount ge 20` compares amount as a number and misses an event
    whose amount is a string, as a device misses a custom property of another type.
    """

    def __init__(self, definition: str) -> None:
        super().__init__(definition, {})

    def property(self, name: str, offset: int) -> _Property:
        return _Property(name, "any", True)

    def test(self, test: _Test) -> object:
        first = test.values[0]
        if first.kind == "null":
            return super().test(test)
        kind = _EVENT_TYPES.get(first.kind)
        if kind is None:
            raise self.error(
                first.offset,
                _EVENT_VALUE,
                first.describe(),
                f"an event property compares with {_EVENT_VALUE}, not {first.describe()}",
            )
        prop = _Property(test.name, kind, True)
        if test.operator not in _OPERATORS[kind]:
            raise self.wrong_operator(prop, test)
        for literal in test.values:
            if literal.kind != first.kind:
                raise self.wrong_type(prop, literal)
        return _Compare(prop, test.operator, tuple(literal.value for literal in test.values))


_EVENT_TYPES = {"string": "string", "number": "number", "boolean": "boolean"}
_EVENT_VALUE = "a 'quoted string', a number, true or false"


def _type_phrase(kind: str) -> str:
    return _TYPE_PHRASES.get(kind, f"a {kind} property")


def _nearest(name: str, names: list[str]) -> str | None:
    """Return the property name closest to a misspelt one, ignoring case first."""
    by_case = {known.casefold(): known for known in names}
    if name.casefold() in by_case:
        return by_case[name.casefold()]
    close = difflib.get_close_matches(name.casefold(), list(by_case), n=1, cutoff=0.6)
    return by_case[close[0]] if close else None


# ---------------------------------------------------------------------------------------------
# Compiling to a Q


def _every() -> Q:
    return Q(pk__isnull=False)


def _none() -> Q:
    return Q(pk__in=[])


_ORDER_LOOKUPS = {
    "lt": LessThan,
    "gt": GreaterThan,
    "le": LessThanOrEqual,
    "ge": GreaterThanOrEqual,
}
# The JSON types a custom property of each type must have, by vendor; any other is missing.
# "any" is an event property's for exists(key): any value but JSON null.
_SQLITE_JSON_TYPES = {
    "string": ["text"],
    "datetime": ["text"],
    "number": ["integer", "real"],
    "boolean": ["true", "false"],
    "any": ["text", "integer", "real", "true", "false", "array", "object"],
}
_JSONB_TYPES = {
    "string": ["string"],
    "datetime": ["string"],
    "number": ["number"],
    "boolean": ["boolean"],
    "any": ["string", "number", "boolean", "array", "object"],
}


class _JsonbMember(Func):
    """PostgreSQL's `json -> name`, the name a parameter."""

    template = "(%(expressions)s)"
    arg_joiner = " -> "
    output_field = JSONField()


class _JsonbMemberText(Func):
    """PostgreSQL's `json ->> name`, the name a parameter."""

    template = "(%(expressions)s)"
    arg_joiner = " ->> "
    output_field = CharField()


class _NumericText(Func):
    """Cast text to numeric; only ever reached for a JSON number (see _Compiler.jsonb)."""

    template = "(%(expressions)s)::numeric"
    output_field = DecimalField()


class _JsonArrayHasText(Func):
    """SQLite: whether a JSON array holds a string, exactly (its JSONField has no contains)."""

    output_field = BooleanField()

    def as_sql(self, compiler: object, connection: object, **extra_context: object) -> tuple:
        array, text = (compiler.compile(source) for source in self.get_source_expressions())
        # Only compiled SQL (a column, a placeholder) enters the text; the category is a parameter.
        return (
            f"EXISTS (SELECT 1 FROM json_each({array[0]}) AS item "  # noqa: S608
            f"WHERE item.type = 'text' AND item.value = {text[0]})",
            (*array[1], *text[1]),
        )


class _JsonbPathExists(Func):
    """PostgreSQL's `jsonb @? jsonpath`, the path a parameter; false where it would be NULL.

    @? answers NULL where a strict path raises, as it does for a missing key
    (https://www.postgresql.org/docs/current/functions-json.html#STRICT-AND-LAX-MODES):
    NOT NULL is NULL, so the language's two-valued logic needs the false.
    """

    output_field = BooleanField()

    def as_sql(self, compiler: object, connection: object, **extra_context: object) -> tuple:
        document, path = (compiler.compile(source) for source in self.get_source_expressions())
        return (
            f"COALESCE(({document[0]} @? ({path[0]})::jsonpath), false)",
            (*document[1], *path[1]),
        )


class _AmongGroups(Expression):
    """Whether the device is among the (app_id, device_id) rows of a grouped query of events.

    EXISTS over the grouped query as a derived table, joined on both columns: PostgreSQL pulls
    it up into a semi-join and carries the outer app_id = X into the grouping, which reads only
    that app's events by their (app, name, occurred_at) index. A correlated GROUP BY would run
    once per device instead.
    """

    output_field = BooleanField()
    conditional = True

    def __init__(self, grouped: QuerySet) -> None:
        super().__init__()
        self.grouped = grouped
        self.outer: tuple[Combinable, ...] = (F("app_id"), F("pk"))

    def get_source_expressions(self) -> list[Combinable]:
        # The device's columns, so that Django resolves them and renames them in a subquery.
        return list(self.outer)

    def set_source_expressions(self, expressions: list[Combinable]) -> None:
        self.outer = tuple(expressions)

    def as_sql(self, compiler: object, connection: object, **extra_context: object) -> tuple:
        inner, inner_params = self.grouped.query.get_compiler(connection=connection).as_sql()
        (app, app_params), (device, device_params) = (compiler.compile(ref) for ref in self.outer)
        # Only compiled SQL enters the text; every value is a parameter.
        return (
            f"EXISTS (SELECT 1 FROM ({inner}) AS grouped_events "  # noqa: S608
            f"WHERE grouped_events.app_id = {app} AND grouped_events.device_id = {device})",
            (*inner_params, *app_params, *device_params),
        )


class _Operand:
    """A property as SQL sees it: when a device has it, and its value then (never NULL).

    `presence` is None for a property every device has.
    """

    def __init__(
        self, presence: Q | None, value: Combinable, *, ordered: Combinable | None = None
    ) -> None:
        self.presence = presence
        self.value = value
        self.ordered = value if ordered is None else ordered

    def present(self) -> Q:
        return _every() if self.presence is None else self.presence

    def matches(self, operator: str, values: list[object]) -> Q:
        return self.guarded(self.test(operator, values))

    def guarded(self, test: Q) -> Q:
        return test if self.presence is None else self.presence & test

    def test(self, operator: str, values: list[object]) -> Q:
        first = values[0]
        if operator == "eq":
            return self.equals(first)
        if operator == "ne":
            return ~self.equals(first)
        if operator in _ORDER_LOOKUPS:
            return Q(_ORDER_LOOKUPS[operator](self.ordered, Value(first)))
        if operator in ("in", "notin"):
            member = Q(In(self.value, values))
            return member if operator == "in" else ~member
        return self.text_test(operator, first)

    def equals(self, literal: object) -> Q:
        return Q(Exact(self.value, Value(literal)))

    def text_test(self, operator: str, text: str) -> Q:
        # Functions, not LIKE: SQLite's LIKE ignores case and both need escaping.
        if not text:
            return _every()
        if operator == "startswith":
            return Q(Exact(Left(self.value, len(text)), Value(text)))
        if operator == "endswith":
            return Q(Exact(Right(self.value, len(text)), Value(text)))
        return Q(GreaterThan(StrIndex(self.value, Value(text)), Value(0)))


class _ContainedOperand(_Operand):
    """A PostgreSQL custom property: equality by JSONB containment, which a GIN index serves."""

    def __init__(
        self, document: str, name: str, presence: Q, value: Combinable, **kwargs: object
    ) -> None:
        super().__init__(presence, value, **kwargs)
        self.document = document
        self.name = name

    def matches(self, operator: str, values: list[object]) -> Q:
        if operator == "eq":
            return self.equals(values[0])  # containment implies presence, and alone uses the index
        return super().matches(operator, values)

    def equals(self, literal: object) -> Q:
        return Q(**{f"{self.document}__contains": {self.name: _json_scalar(literal)}})


class _NumberOperand(_ContainedOperand):
    """A PostgreSQL custom number: lt, gt, le and ge as one JSON path test.

    The path reads the key once, where jsonb_typeof, ->> and a cast to numeric read it three
    times: about a fifth of a count's time over a million devices.
    """

    def matches(self, operator: str, values: list[object]) -> Q:
        if operator in _PATH_OPERATORS:
            path = _number_path(self.name, _PATH_OPERATORS[operator], values[0])
            return Q(_JsonbPathExists(F(self.document), Value(path)))
        return super().matches(operator, values)


_PATH_OPERATORS = {"lt": "<", "gt": ">", "le": "<=", "ge": ">="}


def _number_path(name: str, operator: str, number: Decimal) -> str:
    """Return a strict JSON path that finds the key when it holds a number in that order.

    Strict, because lax mode unwraps arrays ([60] would pass for 60); in strict mode a string,
    boolean, null, array or object compares as unknown, so only a JSON number passes, as
    jsonb_typeof(...) = 'number' asks. Numbers compare as numeric, exactly.
    """
    # json.dumps quotes the key as a JSON path string literal is quoted; 'f' keeps out exponents.
    return f"strict $.{json.dumps(name)} ? (@ {operator} {number:f})"


def _json_scalar(literal: object) -> object:
    if isinstance(literal, Decimal):
        return int(literal) if literal == literal.to_integral_value() else float(literal)
    return literal


class _Compiler:
    """Turn a checked definition into one Q for a vendor, with `now` fixed.

    `document` is the JSON column custom properties live in: a device's, or an event's
    properties for the where of a did(...).
    """

    def __init__(
        self, definition: str, now: datetime, vendor: str, document: str = "custom_properties"
    ) -> None:
        if vendor not in ("postgresql", "sqlite"):
            raise NotSupportedError(f"segments run on PostgreSQL or SQLite, not {vendor}")
        self.definition = definition
        self.now = now
        self.vendor = vendor
        self.postgres = vendor == "postgresql"
        self.document = document

    def compile(self, tree: object, negated: bool = False) -> Q:
        """Compile a tree, pushing negations down to the comparisons (De Morgan).

        Every comparison is two-valued, so that is exact. It keeps NOT (...) levels out of the
        SQL, and the deepest operand goes first: SQLite 3.40's parser has a 100-entry stack,
        which a definition nested 50 deep overflows unless each level costs it one entry.
        """
        if isinstance(tree, _Not):
            return self.compile(tree.operand, not negated)
        if isinstance(tree, _All | _Any):
            operands = sorted(tree.operands, key=_depth, reverse=True)
            connector = Q.AND if isinstance(tree, _All) != negated else Q.OR
            conditions = [self.compile(operand, negated) for operand in operands]
            if connector == Q.AND:
                conditions = _merge_containments(conditions, self.document)
            return Q(*conditions, _connector=connector)
        if isinstance(tree, _Has):
            condition = self.operand(tree.property).present()
        elif isinstance(tree, _Did):
            condition = self.did(tree)
        else:
            condition = self.compare(tree)
        return ~condition if negated else condition

    def compare(self, compare: _Compare) -> Q:
        prop = compare.property
        values = [self.literal(prop, value) for value in compare.values]
        if prop.type == "list":
            return self.categories_contain(values[0])
        operand = self.operand(prop)
        if prop.custom and prop.type == "datetime":
            return operand.guarded(_stored_moment_test(operand, compare.operator, values[0]))
        return operand.matches(compare.operator, values)

    def literal(self, prop: _Property, value: object) -> object:
        """Return a checked literal as the SQL comparison takes it."""
        if isinstance(value, _Relative):
            return self.relative(value)
        if isinstance(value, Decimal) and not self.postgres:
            # SQLite compares JSON numbers as integers and floats; a Decimal would bind as text.
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, bool) and prop.custom and not self.postgres:
            return "true" if value else "false"  # compared with json_type
        return value

    def did(self, did: _Did) -> Q:
        """Compile did(...): whether the device's count of matching events passes the test.

        A test that zero events pass is compiled as its opposite, negated, so the subquery
        only ever looks for devices with events: no device without any is read.
        """
        events = Q(name=did.name, occurred_at__gte=self.now - did.window, occurred_at__lte=self.now)
        if did.where is not None:
            where = _Compiler(self.definition, self.now, self.vendor, document="properties")
            events &= where.compile(did.where)
        operator, number = did.count
        if _counts(0, operator, number):
            return ~_devices_with_events(events, _OPPOSITES[operator], number)
        return _devices_with_events(events, operator, number)

    def relative(self, relative: _Relative) -> datetime:
        try:
            moment = self.now + relative.delta
        except OverflowError:
            moment = None
        if moment is None or moment.year > LAST_YEAR:
            raise DefinitionError(
                self.definition, relative.offset, expected=_IN_CALENDAR, found=f"'{relative.text}'"
            )
        return moment

    def operand(self, prop: _Property) -> _Operand:
        if prop.type == "list":
            return _Operand(self.categories_present(), F("categories"))
        if not prop.custom:
            return self.column(prop)
        return self.jsonb(prop) if self.postgres else self.sqlite_json(prop)

    def column(self, prop: _Property) -> _Operand:
        """A built-in property: missing when its reported column is '' or NULL."""
        compared, reported = BUILT_IN_COLUMNS[prop.name]
        field = Device._meta.get_field(reported)
        conditions = []
        if field.null:
            conditions.append(Q(**{f"{reported}__isnull": False}))
        if isinstance(field, CharField):
            conditions.append(~Q(**{reported: ""}))
        presence = Q(*conditions) if conditions else None
        value = F(compared)
        return _Operand(presence, value, ordered=self.in_code_point_order(prop, value))

    def sqlite_json(self, prop: _Property) -> _Operand:
        """A custom property on SQLite: json_type says whether it is there with its type."""
        path = Value(f'$."{prop.name}"')  # the name is [A-Za-z0-9_.-]: no '"' can end the key
        json_type = Coalesce(
            Func(F(self.document), path, function="json_type", output_field=CharField()),
            Value(""),
        )
        presence = Q(In(json_type, _SQLITE_JSON_TYPES[prop.type]))
        if prop.type == "boolean":
            return _Operand(presence, json_type)
        value = Func(F(self.document), path, function="json_extract", output_field=CharField())
        return _Operand(presence, value)

    def jsonb(self, prop: _Property) -> _Operand:
        """A custom property on PostgreSQL: jsonb_typeof says whether it is there with its type."""
        name = Value(prop.name)
        json_type = Coalesce(
            Func(
                _JsonbMember(F(self.document), name),
                function="jsonb_typeof",
                output_field=CharField(),
            ),
            Value(""),
        )
        types = _JSONB_TYPES[prop.type]
        is_typed = Q(Exact(json_type, Value(types[0])) if len(types) == 1 else In(json_type, types))
        text = _JsonbMemberText(F(self.document), name)
        if prop.type == "number":
            # CASE, because AND does not promise to test the type before the cast runs.
            value = Case(When(is_typed, then=_NumericText(text)), output_field=DecimalField())
            return _NumberOperand(self.document, prop.name, is_typed, value)
        ordered = self.in_code_point_order(prop, text)
        return _ContainedOperand(self.document, prop.name, is_typed, text, ordered=ordered)

    def in_code_point_order(self, prop: _Property, value: Combinable) -> Combinable:
        """Order text by code point, as SQLite and Python do, not by the database's locale."""
        text = prop.type in ("string", "version") or (prop.custom and prop.type == "datetime")
        return Collate(value, "C") if self.postgres and text else value

    def categories_present(self) -> Q:
        if self.postgres:
            is_array = Func(F("categories"), function="jsonb_typeof", output_field=CharField())
            return Q(Exact(is_array, Value("array"))) & ~Q(categories=[])
        length = Func(F("categories"), function="json_array_length", output_field=IntegerField())
        return Q(GreaterThan(length, Value(0)))

    def categories_contain(self, category: str) -> Q:
        if self.postgres:
            return Q(categories__contains=[category])
        return Q(_JsonArrayHasText(F("categories"), Value(category)))


_OPPOSITES = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "gt": "le", "le": "gt"}
_COUNT_LOOKUPS = {"eq": "exact", "lt": "lt", "gt": "gt", "le": "lte", "ge": "gte"}


def _counts(count: int, operator: str, number: int) -> bool:
    """Whether `count operator number` holds, as did(..., count ...) reads it."""
    return {
        "eq": count == number,
        "ne": count != number,
        "lt": count < number,
        "gt": count > number,
        "le": count <= number,
        "ge": count >= number,
    }[operator]


def _devices_with_events(events: Q, operator: str, number: int) -> Q:
    """Match a device with at least one of `events`, as many as `operator number` asks.

    When any number from 1 will do, EXISTS, which PostgreSQL runs as a semi-join on the events'
    index. Otherwise the app's matching events are grouped by device in one pass, however many
    devices there are, and each device is looked up among the groups (_AmongGroups).
    """
    if (operator == "lt" and number <= 1) or (operator in ("le", "eq") and number == 0):
        return _none()
    if (operator == "ge" and number <= 1) or (operator in ("gt", "ne") and number == 0):
        found = Event.objects.filter(events, app=OuterRef("app"), device=OuterRef("pk"))
        return Q(Exists(found))
    grouped = Event.objects.filter(events).values("app_id", "device_id")
    grouped = grouped.alias(matching=Count("*"))  # COUNT(*): the index alone answers it
    if operator == "ne":
        return Q(_AmongGroups(grouped.exclude(matching=number)))
    return Q(_AmongGroups(grouped.filter(**{f"matching__{_COUNT_LOOKUPS[operator]}": number})))


def _merge_containments(conditions: list[Q], document: str) -> list[Q]:
    """Fold the custom equalities of one AND into one containment, last (it is no deeper).

    custom_properties @> '{"a": 1}' AND custom_properties @> '{"b": 2}' selects what
    @> '{"a": 1, "b": 2}' does, but PostgreSQL multiplies the two estimates: two equalities
    of a third of a million devices each, all the same third, were estimated at a tenth, and
    planned without parallel workers at twice the time. A key already taken stays apart, so no
    equality replaces another.
    """
    merged: dict[str, object] = {}
    others = []
    for condition in conditions:
        pairs = _containment(condition, document)
        if pairs is None or pairs.keys() & merged.keys():
            others.append(condition)
        else:
            merged.update(pairs)
    return [*others, Q(**{f"{document}__contains": merged})] if merged else others


def _containment(condition: Q, document: str) -> dict[str, object] | None:
    """Return the pairs of a plain `document @> {...}` condition, else None."""
    if condition.negated or len(condition.children) != 1:
        return None
    child = condition.children[0]
    if isinstance(child, tuple) and child[0] == f"{document}__contains":
        return child[1]
    return None


def _depth(tree: object) -> int:
    """Count the and/or levels of a tree; negations vanish once pushed down."""
    if isinstance(tree, _Not):
        return _depth(tree.operand)
    if isinstance(tree, _All | _Any):
        return 1 + max(_depth(operand) for operand in tree.operands)
    return 0


def _stored_moment_test(operand: _Operand, operator: str, moment: datetime) -> Q:
    """Compare a custom datetime, stored as whole-second UTC text, with an exact moment."""
    text = _utc_text(moment)
    if not moment.microsecond:
        return operand.test(operator, [text])
    # A moment inside a second lies after that stored second and before the next one.
    if operator == "eq":
        return _none()
    if operator == "ne":
        return _every()
    return operand.test("le" if operator in ("lt", "le") else "gt", [text])


def _utc_text(moment: datetime) -> str:
    """Write a moment as custom properties store it: YYYY-MM-DDTHH:MM:SSZ, in UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"

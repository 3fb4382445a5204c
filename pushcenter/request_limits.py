"""Bounds on what a request body may be, checked before any expensive or recursive parsing.

Every API body is at most API_MAX_BODY_BYTES (PUSHCENTER_API_MAX_BODY_BYTES) and JSON nested at
most MAX_JSON_DEPTH levels; its strings are Unicode text without NUL and its numbers fit the
types we store them in. Each refusal is a 4xx in the API's error shape naming its rule, as the
OWASP REST Security and Input Validation cheat sheets ask (limit request size, validate early).
Python's json module recurses once per level and raises RecursionError past about 1,000, so the
depth is measured on the text first, without recursion.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from array import array
from itertools import accumulate

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer

MAX_JSON_DEPTH = 32
# RFC 7493 (I-JSON) §2.2: numbers beyond what 64-bit integers and IEEE 754 doubles hold do not
# interoperate; we refuse them rather than let a column or float() overflow later.
MAX_INTEGER = 2**63 - 1
# A string skipped whole, escapes included; an unterminated one runs to the end of the text.
# Possessive, so a body of quotes and backslashes cannot make the search backtrack.
JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
# Each opening bracket steps one level in (+1), each closing one out (0xff is -1 as a signed byte).
DEPTH_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
# PostgreSQL's text and jsonb cannot hold NUL, and no encoding can hold an unpaired surrogate.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"


class JSONRuleError(ValueError):
    """A JSON text that breaks one of our rules; `field` is the dotted path it concerns."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def max_body_bytes() -> int:
    return settings.API_MAX_BODY_BYTES


def too_large_message(size: int | None, limit: int | None = None) -> str:
    """Say that a body is over the limit (the API's unless given), with its size when known."""
    told = f" ({size:,} bytes)" if size is not None else ""
    return f"The request body{told} is over the limit of {limit or max_body_bytes():,} bytes."


def nesting_depth(text: str) -> int:
    """Return how deeply arrays and objects nest in a JSON text, counting brackets in C."""
    brackets = NOT_A_BRACKET.sub("", JSON_STRING.sub("", text))
    steps = array("b", brackets.encode("ascii").translate(DEPTH_STEPS))
    return max(accumulate(steps), default=0)


def load_json(text: str) -> object:
    """Parse a JSON text within our rules, or raise JSONRuleError (a ValueError) saying why."""
    depth = nesting_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise JSONRuleError(
            f"The JSON nests arrays and objects {depth:,} levels deep; at most "
            f"{MAX_JSON_DEPTH} are allowed."
        )
    try:
        document = json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite, parse_int=_bounded
        )
    except JSONRuleError:
        raise
    except ValueError as error:
        raise JSONRuleError(f"JSON parse error: {error}.") from None
    _check_strings(document)
    return document


def _refuse_constant(name: str) -> None:
    raise JSONRuleError(f"{name} is not a JSON number.")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONRuleError(f"The number {text[:40]} is too large for a 64-bit float.")
    return value


def _bounded(text: str) -> int:
    # Python refuses integers of over 4,300 digits itself; the length check comes first so
    # that no big number is converted only to be refused.
    if len(text) > 20 or abs(value := int(text)) > MAX_INTEGER:
        raise JSONRuleError(f"The integer {text[:40]} does not fit in 64 bits.")
    return value


def _check_strings(document: object) -> None:
    """Refuse NUL characters and unpaired surrogates in any key or string, naming where."""
    pending: list[tuple[object, tuple]] = [(document, ())]
    while pending:
        value, path = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if UNSTORABLE.search(key):
                    _unstorable(path)
                pending.append((item, (*path, key)))
        elif isinstance(value, list):
            pending.extend((item, (*path, str(index))) for index, item in enumerate(value))
        elif isinstance(value, str) and UNSTORABLE.search(value):
            _unstorable(path)


def _unstorable(path: tuple) -> None:
    raise JSONRuleError(
        "Text may not contain NUL characters or unpaired UTF-16 surrogates (such as \\ud800).",
        ".".join(path) or None,
    )


class BoundedJSONParser(BaseParser):
    """Parse an API body as UTF-8 JSON within the size and depth limits.

    Not a JSONParser subclass on purpose: DRF hands those `request.body`, which reads the whole
    body under Django's DATA_UPLOAD_MAX_MEMORY_SIZE; this parser reads the stream itself, at
    most one byte past the API's own limit, so the limit holds even where no Content-Length
    was checked (a chunked body behind a server that passes it on, or without the middleware).
    """

    media_type = "application/json"
    renderer_class = JSONRenderer

    def parse(self, stream, media_type=None, parser_context=None) -> object:
        context = parser_context or {}
        raw = read_bounded(stream, context.get("request"))
        text = decode(raw, context.get("encoding") or settings.DEFAULT_CHARSET)
        try:
            return load_json(self.prepare(text))
        except JSONRuleError as error:
            detail = {error.field: [str(error)]} if error.field else str(error)
            raise exceptions.ParseError(detail) from None

    def prepare(self, text: str) -> str:
        """Return the text to parse; a subclass may tolerate more than strict JSON."""
        return text


def read_bounded(stream, request: object) -> bytes:
    """Read the body, refusing it with 413 once it passes the limit."""
    limit = max_body_bytes()
    raw = stream.read(limit + 1) if stream is not None else b""
    if len(raw) > limit:
        raise BodyTooLarge(too_large_message(None))
    django_request = getattr(request, "_request", None)
    if isinstance(django_request, HttpRequest):
        # The stream is spent; keep the bytes so a later `request.body` (a signature check,
        # say) reads them instead of failing.
        django_request._body = raw
    return raw


def decode(raw: bytes, encoding: str) -> str:
    """Decode a JSON body, which RFC 8259 §8.1 says must be UTF-8."""
    try:
        is_utf8 = codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        is_utf8 = False
    if not is_utf8:
        raise exceptions.UnsupportedMediaType(
            f"application/json; charset={encoding}",
            detail="JSON bodies must be UTF-8 (RFC 8259); send charset=utf-8 or no charset.",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise exceptions.ParseError(
            f"The body is not valid UTF-8: byte {error.start} cannot be decoded."
        ) from None


def declared_length(request: HttpRequest) -> int | None:
    """Return the body's Content-Length, or None when it is absent or not a whole number."""
    raw = request.META.get("CONTENT_LENGTH") or ""
    return int(raw) if raw.isascii() and raw.isdigit() else None


class BoundedJSONField(forms.JSONField):
    """A dashboard form's JSON field that refuses deep nesting with a message, not a 500."""

    def to_python(self, value: object) -> object:
        if isinstance(value, str) and value.strip() and not self.disabled:
            try:
                load_json(value)
            except JSONRuleError as error:
                raise ValidationError(str(error), code="invalid") from None
        return super().to_python(value)

    def bound_data(self, data: object, initial: object) -> object:
        """Show refused input back as typed, where Django would parse it again, unbounded."""
        if isinstance(data, str) and not self.disabled:
            try:
                load_json(data)
            except JSONRuleError:
                return InvalidJSONInput(data)
        return super().bound_data(data, initial)

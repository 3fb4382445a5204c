"""What a reported event may say: the rules the events API and the Segment webhook both keep.

Each check returns the value to store or raises RuleError with the rule, for the caller to
attach to its own field name.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from django.utils import timezone

from events.models import EVENT_NAME_RE, EVENT_NAME_RULE, MAX_EVENT_NAME

# The name rule is events' own, shared with conversion goals.
NAME_RE, MAX_NAME = EVENT_NAME_RE, MAX_EVENT_NAME

MAX_IDS = 10_000
MAX_USER_ID = 256
MAX_PROPERTIES_BYTES = 4096
MAX_PROPERTY_KEY = 64
MAX_FUTURE = timedelta(minutes=5)
# PostgreSQL's text and jsonb take neither NUL nor a lone surrogate.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class RuleError(ValueError):
    """A value breaks one of the event rules; the message says which."""


def check_name(name: object) -> str:
    """An event name: 1 to 128 letters, digits, '_', '.', '-', ':' or spaces, not at the ends."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise RuleError(EVENT_NAME_RULE)
    return name


def check_properties(properties: object) -> dict:
    """Event properties: a JSON object of at most 4 KB whose keys are 1 to 64 characters."""
    if not isinstance(properties, dict):
        raise RuleError("Must be a JSON object.")
    for key in properties:
        if not 1 <= len(key) <= MAX_PROPERTY_KEY:
            raise RuleError(f"Each key is 1 to {MAX_PROPERTY_KEY} characters; {key[:70]!r} is not.")
    if _has_unstorable_text(properties):
        raise RuleError("Keys and texts may not hold the NUL character or a lone surrogate.")
    size = _size(properties)
    if size > MAX_PROPERTIES_BYTES:
        raise RuleError(
            f"At most {MAX_PROPERTIES_BYTES} bytes as compact JSON; these are {size} bytes."
        )
    return properties


def check_occurred_at(moment: datetime) -> datetime:
    """When the event happened: any time up to 5 minutes from now (clocks drift)."""
    if moment > timezone.now() + MAX_FUTURE:
        raise RuleError("Must not be more than 5 minutes in the future.")
    return moment


def _has_unstorable_text(value: object) -> bool:
    """Look through every key and text, however deep, without recursing."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and UNSTORABLE.search(item):
            return True
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _size(properties: dict) -> int:
    try:
        text = json.dumps(properties, separators=(",", ":"), ensure_ascii=False)
    except RecursionError:
        raise RuleError("Nested too deeply to store.") from None
    return len(text.encode())

"""A journey's flow: where each step leads, and the rules that keep every path finite.

A message step leads to one step (`then_step`); a wait for an event leads to `then_step` if the
event came and to `else_step` if it timed out. A target is a later step's position, END, or
None for the next step in order. Targets only go forward, so no path loops and none is longer
than the journey's steps.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta

from journeys import event_rules
from journeys.event_rules import RuleError, check_name
from journeys.models import END, Step, StepKind

MAX_EXIT_EVENTS = 5
MAX_CONDITIONS = 5
MAX_CONDITION_VALUE = 256
MIN_EVENT_WAIT = timedelta(minutes=1)
MAX_WAIT = timedelta(days=90)


def target(steps: Sequence[Step], step: Step, chosen: int | None) -> Step | None:
    """The step a way out of `step` leads to, or None where the journey ends.

    `steps` are the journey's steps in order. A target removed meanwhile leads to the first
    step after it, as a removed step is passed.
    """
    if chosen == END:
        return None
    after = step.position if chosen is None else chosen - 1
    return next((s for s in steps if s.position > after), None)


def branch_errors(steps: Sequence[Step]) -> dict[str, str]:
    """Check each step's targets and wait; return the problems keyed "step N: field"."""
    positions = {s.position for s in steps}
    found: dict[str, str] = {}
    for step in steps:
        ways = [("then_step", step.then_step)]
        if step.kind == StepKind.WAIT_FOR_EVENT:
            ways.append(("else_step", step.else_step))
            found.update(_wait_errors(step))
        for field, chosen in ways:
            error = target_error(step.position, chosen, positions)
            if error:
                found[f"step {step.position}: {field}"] = error
    return found


def target_error(position: int, chosen: int | None, positions: Iterable[int]) -> str | None:
    """Say why `chosen` is not a valid target from the step at `position`, if it is not."""
    if chosen is None or chosen == END:
        return None
    if chosen <= position:
        return f"Must lead to a later step than step {position} (journeys only go forward)."
    if chosen not in set(positions):
        return f"There is no step {chosen} in this journey."
    return None


def _wait_errors(step: Step) -> dict[str, str]:
    found = {}
    try:
        check_name(step.event_name)
    except RuleError as error:
        found[f"step {step.position}: event_name"] = str(error)
    try:
        check_conditions(step.event_conditions)
    except RuleError as error:
        found[f"step {step.position}: event_conditions"] = str(error)
    if not MIN_EVENT_WAIT <= step.wait <= MAX_WAIT:
        found[f"step {step.position}: wait"] = (
            f"A wait for an event times out after 1 minute to {MAX_WAIT.days} days."
        )
    return found


def check_exit_events(names: object, trigger_event: str = "") -> list[str]:
    """Exit events: a list of at most 5 distinct event names, not the one that starts it."""
    if not isinstance(names, list) or len(names) > MAX_EXIT_EVENTS:
        raise RuleError(f"A list of at most {MAX_EXIT_EVENTS} event names.")
    for name in names:
        check_name(name)
    if len(set(names)) != len(names):
        raise RuleError("Name each exit event once.")
    if trigger_event and trigger_event in names:
        raise RuleError(
            f"{trigger_event!r} starts this journey, so it cannot also end it: "
            "people would leave and enter again at once."
        )
    return names


def check_conditions(conditions: object) -> dict[str, str]:
    """A wait's event conditions: at most 5 property names (1 to 64 characters) with the text
    each must have (at most 256 characters)."""
    if not isinstance(conditions, dict) or len(conditions) > MAX_CONDITIONS:
        raise RuleError(f"At most {MAX_CONDITIONS} conditions, each a property and its value.")
    for key, value in conditions.items():
        if not isinstance(key, str) or not 1 <= len(key) <= event_rules.MAX_PROPERTY_KEY:
            raise RuleError(f"A property name is 1 to {event_rules.MAX_PROPERTY_KEY} characters.")
        if not isinstance(value, str) or len(value) > MAX_CONDITION_VALUE:
            raise RuleError(f"A value is a text of at most {MAX_CONDITION_VALUE} characters.")
    return conditions


def matches(conditions: dict[str, str], properties: Mapping[str, object]) -> bool:
    """Whether an event's properties meet a wait's conditions, each compared as text."""
    return all(
        key in properties and property_text(properties[key]) == value
        for key, value in conditions.items()
    )


def property_text(value: object) -> str:
    """Write an event property as a condition compares it: gold, 30, 2.5, true, null."""
    return value if isinstance(value, str) else json.dumps(value)

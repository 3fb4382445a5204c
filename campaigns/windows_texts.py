"""The texts a marketer writes in a notification's Windows parts, as translatable slots.

The toast's inputs and buttons and the tile's lines are JSON structures written in the default
language. Each text in them is a slot with a stable key ("action.0.content",
"input.reply.placeholder", "input.reply.selection.yes", "tile.medium.1"); an added language's
texts are kept by key in Notification.windows_texts ({language: {key: text}}) and laid over copies
of the structures when that language is sent. A slot the language has no text for (a button
added after its translation was overridden) keeps the default language's text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from campaigns.models import Notification, Template

# Mirrors the limit campaigns.options puts on every text of the Windows structures.
MAX_LENGTH = 200
PARTS = ("inputs", "actions", "tile_bindings")
_INPUT_TEXTS = (("title", "title"), ("placeholder", "placeholder"), ("default", "default text"))


@dataclass(frozen=True)
class Slot:
    """One text of the Windows parts: its key, what the composer calls it, its default text."""

    key: str
    label: str
    text: str


def parts(notification: Notification) -> dict[str, object]:
    """Return what decides a notification's slots, as the form's cleaned data holds it."""
    return {
        "template": notification.template,
        "platforms": notification.platforms,
        **{name: getattr(notification, name) for name in PARTS},
    }


def shown_slots(values: Mapping[str, object]) -> list[Slot]:
    """List the slots a Windows device shows: a tile's lines, or a toast's inputs and buttons.

    Nothing when Windows is not a platform or the template shows no text; a slot whose default
    text is empty has nothing to translate and is left out.
    """
    platforms = values.get("platforms") or []
    template = values.get("template")
    if "windows" not in platforms or template in (Template.SILENT, Template.BADGE):
        return []
    tile = template == Template.TILE
    return [
        slot
        for slot in all_slots(*(_list(values.get(name)) for name in PARTS))
        if slot.text and slot.key.startswith("tile.") == tile
    ]


def all_slots(inputs: list, actions: list, tile_bindings: list) -> list[Slot]:
    """List every slot of the structures, the empty ones too."""
    return [
        Slot(key, label, container[index] if isinstance(container[index], str) else "")
        for key, label, container, index in _places(inputs, actions, tile_bindings)
    ]


def own_texts(notification: Notification, language: str) -> dict[str, str]:
    """Return the texts stored for one language (none for the default language)."""
    if language == notification.default_language:
        return {}
    stored = (notification.windows_texts or {}).get(language)
    if not isinstance(stored, dict):
        return {}
    return {key: text for key, text in stored.items() if isinstance(text, str)}


def texts(notification: Notification, language: str) -> dict[str, str]:
    """Return every slot's text in one language: its own where it has one, else the default's."""
    own = own_texts(notification, language)
    return {
        slot.key: own.get(slot.key) or slot.text
        for slot in all_slots(*(_list(getattr(notification, name)) for name in PARTS))
    }


def localized(notification: Notification, values: Mapping[str, str]) -> dict[str, list]:
    """Return the inputs, actions and tile bindings with each slot's text replaced: copies where
    a text changes, the notification's own lists where none does (the common case, rendered
    once per device, so it must not copy)."""
    originals = {name: _list(getattr(notification, name)) for name in PARTS}
    places = _places(*originals.values())
    if all(values.get(key) in (None, "", container[index]) for key, _, container, index in places):
        return originals
    copies = {name: _copied(value) for name, value in originals.items()}
    for key, _label, container, index in _places(*copies.values()):
        if values.get(key):
            container[index] = values[key]
    return copies


def _copied(value: object) -> object:
    """Copy JSON-like lists and dicts (much faster than copy.deepcopy for them)."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    return value


def _places(inputs: list, actions: list, tile_bindings: list) -> Iterator[tuple]:
    """Yield (key, label, container, index) for each text of the structures, in their order."""
    for item in _objects(inputs):
        yield from _input_places(item)
    for number, item in enumerate(_objects(actions)):
        if "content" in item:
            yield f"action.{number}.content", f"Button {number + 1}", item, "content"
    for item in _objects(tile_bindings):
        lines, size = item.get("texts"), str(item.get("size", ""))
        for number in range(len(lines) if isinstance(lines, list) else 0):
            label = f"{size.capitalize()} tile, line {number + 1}"
            yield f"tile.{size}.{number}", label, lines, number


def _input_places(item: dict) -> Iterator[tuple]:
    name = item.get("id", "")
    for part, what in _INPUT_TEXTS:
        # A selection input's default names a selection: it is an id, not a text.
        if part in item and not (part == "default" and item.get("type") == "selection"):
            yield f"input.{name}.{part}", f"Input {name}: {what}", item, part
    for choice in _objects(item.get("selections")):
        if "content" in choice:
            choice_id = choice.get("id", "")
            label = f"Input {name}: choice {choice_id}"
            yield f"input.{name}.selection.{choice_id}", label, choice, "content"


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _objects(value: object) -> list[dict]:
    return [item for item in _list(value) if isinstance(item, dict)]

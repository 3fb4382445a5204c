"""Read an HTML form's fields and values as a browser would submit them."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or "name" not in a and tag != "option":
            return
        if tag == "input":
            self._input(a)
        elif tag == "select":
            self._select = a["name"]
            self.values.setdefault(a["name"], [])
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select].append(a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[a["name"]] = [""]

    def _input(self, a: dict[str, str]) -> None:
        kind = a.get("type", "text")
        if kind in ("submit", "file", "button", "image"):
            return
        if kind in ("checkbox", "radio") and "checked" not in a:
            return
        self.values.setdefault(a["name"], []).append(
            a.get("value", "on" if kind == "checkbox" else "")
        )

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            # Like a browser, drop the newline that opens a textarea's content.
            value = self.values[self._textarea][0]
            self.values[self._textarea][0] = value[1:] if value.startswith("\n") else value
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea][0] += data


def read_form(html: str, form_id: str) -> dict[str, str | list[str]]:
    """Return the form's successful controls: a value, or a list where a name repeats."""
    reader = _FormReader(form_id)
    reader.feed(html)
    return {name: v[0] if len(v) == 1 else v for name, v in reader.values.items() if v}

"""Sortable keys for version strings, so '2.10' sorts after '2.9' in SQL as in Python."""

from __future__ import annotations

import re

_LEADING_NUMBER = re.compile(r"\d+")
PART_WIDTH = 6
MAX_PARTS = 6


def version_key(version: str) -> str:
    """Return a key whose string order is the version order: '2.10.1' -> '000002.000010.000001'.

    Each dotted part counts by its leading digits (a part without any counts as 0); trailing zero
    parts are dropped, so '2.1' and '2.1.0' are equal.
    """
    numbers = []
    for part in version.strip().split(".")[:MAX_PARTS]:
        match = _LEADING_NUMBER.match(part)
        numbers.append(min(int(match.group()), 10**PART_WIDTH - 1) if match else 0)
    while numbers and numbers[-1] == 0:
        numbers.pop()
    return ".".join(str(n).zfill(PART_WIDTH) for n in numbers)

"""Read typed settings from the environment, failing loudly with the variable's name."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    """Return the variable's value, or the default when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    """Return the variable as a boolean; anything but a clear yes or no is an error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}"
    )


def env_int(name: str, default: int) -> int:
    """Return the variable as a non-negative integer."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}") from None
    if value < 0:
        raise ImproperlyConfigured(f"{name} must not be negative; got {raw!r}")
    return value


def env_list(name: str, default: str) -> list[str]:
    """Return the variable split on commas, blanks dropped."""
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def is_set(name: str) -> bool:
    """Tell whether the variable is set explicitly (even to an empty value)."""
    return name in os.environ


_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def env_rate(name: str, default: str) -> tuple[int, int]:
    """Return a rate written COUNT/PERIOD (period s, m, h or d) as (count, seconds)."""
    raw = env_str(name, default)
    count, _, period = raw.partition("/")
    if not count.isdigit() or int(count) < 1 or period not in _PERIODS:
        raise ImproperlyConfigured(f"{name} must look like 1000/s, 600/m or 10000/h; got {raw!r}")
    return int(count), _PERIODS[period]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """Return the variable when it is one of the choices."""
    value = env_str(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value

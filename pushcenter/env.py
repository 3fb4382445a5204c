"""Read typed settings from the environment, failing loudly with the variable's name."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

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


def env_int(name: str, default: int, minimum: int = 0) -> int:
    """Return the variable as an integer of at least `minimum` (by default non-negative)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}") from None
    if value < minimum:
        rule = "must not be negative" if minimum == 0 else f"must be at least {minimum}"
        raise ImproperlyConfigured(f"{name} {rule}; got {raw!r}")
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


def env_public_url(name: str, default: str) -> str:
    """Return an absolute http(s) URL without query or fragment, and without a trailing slash.

    It is where apps reach the server from outside: the dashboard builds every API URL and
    snippet on it, so a wrong one is refused at startup rather than shown to developers.
    """
    raw = env_str(name, default).strip()
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name} must be an absolute http:// or https:// URL with a host, such as "
            f"https://push.example.com; got {raw!r}"
        )
    if parts.query or parts.fragment or "?" in raw or "#" in raw:
        raise ImproperlyConfigured(f"{name} must have no query (?…) or fragment (#…); got {raw!r}")
    if parts.username or parts.password:
        raise ImproperlyConfigured(f"{name} must not hold a user or password; got {raw!r}")
    try:
        port_ok = parts.port != 0
    except ValueError:
        port_ok = False
    if not port_ok:
        raise ImproperlyConfigured(f"{name}: the port must be a number from 1 to 65535")
    return raw.rstrip("/")


@dataclass(frozen=True)
class EmailSettings:
    """Django's EMAIL_* settings, as read from one URL."""

    backend: str
    host: str = "localhost"
    port: int = 25
    user: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False


_SMTP = "django.core.mail.backends.smtp.EmailBackend"
# scheme: (default port, STARTTLS, implicit TLS). 587 is submission with STARTTLS and 465
# submission over TLS (RFC 8314 §3.3).
_SMTP_SCHEMES = {
    "smtp": (25, False, False),
    "smtp+tls": (587, True, False),
    "smtps": (465, False, True),
}


def env_email_url(name: str, default: str) -> EmailSettings:
    """Return the email settings of a URL: console:, smtp://, smtp+tls:// or smtps://.

    smtp://user:password@host:port; user and password percent-encoded as in any URL.
    """
    raw = env_str(name, default).strip()
    if raw in ("console:", "console://"):
        return EmailSettings(backend="django.core.mail.backends.console.EmailBackend")
    parts = urlsplit(raw)
    if parts.scheme not in _SMTP_SCHEMES or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name} must be console: or an smtp://, smtp+tls:// or smtps:// URL with a host, "
            "such as smtp+tls://user:password@mail.example.com:587"
        )
    default_port, use_tls, use_ssl = _SMTP_SCHEMES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        raise ImproperlyConfigured(f"{name}: the port must be a number from 1 to 65535") from None
    return EmailSettings(
        backend=_SMTP,
        host=parts.hostname,
        port=port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_tls=use_tls,
        use_ssl=use_ssl,
    )

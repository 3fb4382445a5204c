"""Check where an endpoint points: the server will call it, so it must not reach inward (SSRF).

A URL passes when it is https, carries no user information, and its host is a DNS name or IP
address outside the private, loopback, link-local and other non-public ranges; a DNS name is
resolved and every address it gives must pass too. The same check runs again before each POST,
and the connection goes to the address checked, so a name that later resolves inward is refused
rather than followed. PUSHCENTER_WEBHOOKS_ALLOW_LOOPBACK lets loopback through, for the sandbox
and the tests; nothing else inward is ever allowed.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from webhooks.models import MAX_URL_LENGTH

FORBIDDEN_IN_URL = re.compile(r"[\x00-\x20\x7f\\]")
PORT_RE = re.compile(r"^[0-9]{1,5}\Z")
HOST_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationError(ValueError):
    """A URL the server must not call; the message says which rule it broke."""


class UnresolvedHost(DestinationError):
    """The host does not resolve now; it may later."""


@dataclass(frozen=True)
class Destination:
    """Where a POST goes: the URL as given, its host and port, and the address to connect to."""

    url: str
    host: str
    port: int
    address: str


def check_url(url: str) -> str:
    """Return the URL if its form is one the server may call (its host is not resolved)."""
    _parts(url)
    return url


def resolve(url: str) -> Destination:
    """Check the URL and resolve its host to one public address (the first the resolver gives).

    DestinationError when the host resolves to nothing, or to any address the server must not
    reach.
    """
    host, port = _parts(url)
    literal = _ip_literal(host)
    if literal is not None:
        return Destination(url, host, port, str(literal))
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnresolvedHost(f"its host {host} does not resolve") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    for address in addresses:
        _check_public(address, f"its host {host} resolves to {address}, ")
    return Destination(url, host, port, str(addresses[0]))


def _parts(url: str) -> tuple[str, int]:
    if len(url) > MAX_URL_LENGTH or FORBIDDEN_IN_URL.search(url) or not url.isascii():
        raise DestinationError(
            f"must be an ASCII URL of at most {MAX_URL_LENGTH} characters without spaces"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DestinationError("is not a well-formed URL (check its host and port)") from None
    if parts.scheme != "https":
        raise DestinationError("must be an https URL")
    if "@" in parts.netloc:
        raise DestinationError("must not carry a user name or password")
    host = (parts.hostname or "").lower()
    if not host:
        raise DestinationError("must name a host")
    netloc_port = parts.netloc.rpartition("]")[2].partition(":")[2]
    if netloc_port and not PORT_RE.match(netloc_port):
        raise DestinationError("has a port that is not a number from 1 to 65535")
    literal = _ip_literal(host)
    if literal is not None:
        _check_public(literal, "")
    elif not HOST_RE.match(host):
        raise DestinationError("must name its host by a DNS name or a public IP address")
    return host, port or 443


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _check_public(address: IPAddress, prefix: str) -> None:
    """Refuse an address outside the public internet (loopback only if the setting allows)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_loopback and settings.WEBHOOKS_ALLOW_LOOPBACK:
        return
    if not address.is_global or address.is_multicast:
        raise DestinationError(
            f"{prefix}must not point at a private, loopback, link-local or other non-public "
            f"address ({address})"
        )

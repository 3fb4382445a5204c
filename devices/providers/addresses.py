"""Check the addresses a device gives: APNs and FCM tokens, WNS channel URIs.

A channel URI comes from a client and is later called by the server, so only https URLs on the
hosts of PUSHCENTER_WNS_HOSTS pass: never an IP literal, a user-info or port trick, or another host.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

APNS_TOKEN_RE = re.compile(r"^[0-9a-fA-F]{64,200}$")
FCM_TOKEN_RE = re.compile(r"^[A-Za-z0-9_:.\-]{16,1024}$")
HOST_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
# A port in ASCII digits only: int() would also read other scripts' digits, such as :٤٤٣.
PORT_RE = re.compile(r"^[0-9]{1,5}\Z")
MAX_CHANNEL_URI = 2048
# Controls, spaces and backslashes: one search, since every WNS send checks its URI again.
FORBIDDEN_IN_URI = re.compile(r"[\x00-\x20\x7f\\]")


class AddressError(ValueError):
    """A token or channel URI that cannot be accepted; the message says which rule it broke."""


def check_apns_token(token: str) -> str:
    """Return an APNs device token, lower-cased: hexadecimal, 64 to 200 digits, whole bytes."""
    if not APNS_TOKEN_RE.match(token) or len(token) % 2:
        raise AddressError(
            "must be the device token in hexadecimal: 64 to 200 digits, an even count"
        )
    return token.lower()


def check_fcm_token(token: str) -> str:
    """Return an FCM registration token: 16 to 1024 letters, digits and '_', ':', '.', '-'."""
    if not FCM_TOKEN_RE.match(token):
        raise AddressError(
            "must be an FCM registration token: 16 to 1024 letters, digits, '_', ':', '.' or '-'"
        )
    return token


def check_channel_uri(uri: str, allowed_hosts: list[str]) -> str:
    """Return a WNS channel URI if it is https on an allowed host, else say why not."""
    if len(uri) > MAX_CHANNEL_URI or FORBIDDEN_IN_URI.search(uri):
        raise AddressError(
            f"must be a URL of at most {MAX_CHANNEL_URI} characters without spaces or backslashes"
        )
    if not uri.isascii():
        raise AddressError("must be ASCII, as WNS issues it")
    try:
        parts = urlsplit(uri)
    except ValueError:  # such as brackets that hold no IPv6 address: https://[x]/
        raise AddressError("is not a well-formed URL") from None
    if parts.scheme != "https":
        raise AddressError("must be an https URL")
    if "@" in parts.netloc:
        raise AddressError("must not carry user information")
    host, port = _host_and_port(parts.netloc)
    if not _is_dns_name(host):
        raise AddressError("must name its host by a DNS name, not an IP address")
    if not any(_allows(entry, host, port) for entry in allowed_hosts):
        raise AddressError(f"must be on a WNS host ({', '.join(allowed_hosts)})")
    return uri


def _host_and_port(netloc: str) -> tuple[str, int | None]:
    if netloc.startswith("["):
        raise AddressError("must name its host by a DNS name, not an IP address")
    host, _, port = netloc.partition(":")
    if port and not (PORT_RE.match(port) and int(port) <= 65535):
        raise AddressError("has a port that is not a number from 1 to 65535")
    return host.lower(), int(port) if port else None


def _is_dns_name(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return False
    except ValueError:
        return bool(HOST_RE.match(host))


def _allows(entry: str, host: str, port: int | None) -> bool:
    entry_host, _, entry_port = entry.lower().partition(":")
    if entry_port:
        return host == entry_host and port == int(entry_port)
    return port in (None, 443) and (host == entry_host or host.endswith("." + entry_host))

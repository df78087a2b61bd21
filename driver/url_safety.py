"""Refusing input URLs that point inside the worker's own network (SSRF).

A job request comes from the internet, and a worker on Runpod or AWS can reach its cloud's metadata service
(169.254.169.254 and friends) and whatever else sits on the private network. Every host name is resolved and
every address it resolves to must be public; the check runs again on each redirect hop. Local testing (inputs
served from 127.0.0.1) opts in per host through UGC_SWAP_ALLOWED_PRIVATE_HOSTS.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlparse

from .errors import BlockedAddressError, InputUnreachableError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class AddressPolicy:
    """`allowed_private` holds `host` or `host:port` entries let through although they are not public; `*` = all."""

    allowed_private: frozenset[str] = frozenset()

    @classmethod
    def from_setting(cls, value: str | None) -> AddressPolicy:
        return cls(frozenset(part.strip().lower() for part in (value or "").split(",") if part.strip()))

    def allows(self, host: str, port: int) -> bool:
        host = host.lower()
        return bool({"*", host, f"{host}:{port}"} & self.allowed_private)


def is_public_address(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback in disguise
    # is_global is False for private, loopback, link-local (cloud metadata), CGNAT, reserved and unspecified ranges.
    return address.is_global and not address.is_multicast


def resolve_host(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InputUnreachableError(f"cannot resolve host {host!r} ({exc})") from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def check_url_destination(url: str, policy: AddressPolicy, what: str) -> None:
    """Raise BlockedAddressError unless every address `url`'s host resolves to is public (or allowed)."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if policy.allows(host, port):
        return
    blocked = [str(a) for a in resolve_host(host, port) if not is_public_address(a)]
    if blocked:
        raise BlockedAddressError(
            f"{what} points at {host!r}, which resolves to a non-public address ({', '.join(sorted(set(blocked)))}); "
            "private, loopback, link-local and cloud-metadata addresses are refused"
        )

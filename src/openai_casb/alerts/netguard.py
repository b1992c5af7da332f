"""Refuse webhook destinations that resolve to private, loopback, link-local or otherwise internal addresses."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence

Resolver = Callable[[str, int], Sequence[str]]


class DestinationRefused(ValueError):
    """The destination is not allowed (internal address, or its host does not resolve)."""


def resolve_host(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address inside an IPv6 one (::ffff:a.b.c.d, 6to4, Teredo) is judged as that IPv4 address.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and is_internal(str(embedded)):
            return True
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _ip_literal(host: str) -> str | None:
    """The address when `host` is an IP literal (an IPv6 one as URLs write it, in brackets), else None."""
    candidate = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return str(ipaddress.ip_address(candidate.split("%", 1)[0]))
    except ValueError:
        return None


def check_destination(host: str, port: int, allow_private: bool, resolver: Resolver = resolve_host) -> list[str]:
    """The host's addresses; raises `DestinationRefused` if any is internal and that is not allowed.

    Every address is checked, not just the first, so a name with one public and one private
    record cannot slip through.
    """
    literal = _ip_literal(host)
    try:
        addresses = [literal] if literal is not None else list(resolver(host, port))
    except (OSError, UnicodeError) as error:
        raise DestinationRefused(f"cannot resolve webhook host {host!r}: {error}") from None
    if not addresses:
        raise DestinationRefused(f"webhook host {host!r} has no address")
    internal = [a for a in addresses if is_internal(a)]
    if internal and not allow_private:
        raise DestinationRefused(
            f"webhook host {host!r} resolves to internal address(es) {', '.join(internal)}; "
            "set allow_private: true on this destination to allow it"
        )
    return addresses

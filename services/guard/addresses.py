"""Addresses and networks as the guard wants them: what Asterisk's `RemoteAddress` holds, normalized the way
the firewall writes it, and the network arithmetic of the access list."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

CACHE_MAX = 65536  # entries of a per-address cache before it starts again empty
_ADDRESSES: dict[str, str | None] = {}


def ip_address(text: str) -> IPAddress:
    """ipaddress.ip_address, quicker for the usual dotted-quad IPv4 (every new source passes here)."""
    try:
        # inet_pton takes exactly the canonical form (four decimal parts, no leading zeros), as ipaddress.
        return ipaddress.IPv4Address(socket.inet_pton(socket.AF_INET, text))
    except (OSError, ValueError, TypeError):
        return ipaddress.ip_address(text)


def normalize_address(text: str) -> str | None:
    """An address as the firewall wants it: brackets and IPv6 scope dropped, IPv4-mapped IPv6 as IPv4."""
    host = text.strip().strip("[]").split("%", 1)[0]
    try:
        if socket.inet_ntop(socket.AF_INET, socket.inet_pton(socket.AF_INET, host)) == host:
            return host  # canonical IPv4 already: the common case
    except (OSError, ValueError, TypeError):
        pass
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


def parse_remote_address(value: str | None) -> str | None:
    """The source address of `RemoteAddress`, normalized; None if there is none.

    Asterisk prints `<IPV4|IPV6>/<transport>/<address>/<port>` (main/json.c `ast_json_ipaddr`): the
    address without brackets (`ast_sockaddr_stringify_addr`), the transport left out when it is not a single
    known one, IPv4-mapped peers of a dual-stack socket as `IPV6/UDP/203.0.113.7/5060`, link-local ones
    with `%scope`. Bracketed IPv6 is accepted too.
    """
    if not value:
        return None
    cached = _ADDRESSES.get(value)
    if cached is not None or value in _ADDRESSES:
        return cached
    parts = value.split("/")
    found = None
    if len(parts) >= 3 and parts[0].upper() in ("IPV4", "IPV6"):
        # The address is the part before the port; without a transport that is parts[1].
        for part in reversed(parts[1:-1]):
            found = normalize_address(part)
            if found is not None:
                break
    if len(_ADDRESSES) >= CACHE_MAX:
        _ADDRESSES.clear()
    _ADDRESSES[value] = found
    return found


def parse_networks(values: Iterable[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(str(v).strip(), strict=False) for v in values if str(v).strip()]


def subtract_networks(networks: Iterable[IPNetwork], holes: Iterable[IPNetwork]) -> list[IPNetwork]:
    """The addresses of `networks` outside every hole, as few networks as possible."""
    result = list(networks)
    for hole in holes:
        kept: list[IPNetwork] = []
        for net in result:
            if net.version != hole.version or not net.overlaps(hole):
                kept.append(net)
            elif net.subnet_of(hole):  # type: ignore[arg-type]
                continue
            else:
                kept.extend(net.address_exclude(hole))  # type: ignore[arg-type]
        result = kept
    v4 = [n for n in result if n.version == 4]
    v6 = [n for n in result if n.version == 6]
    return [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]

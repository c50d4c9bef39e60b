"""The lists that come before any rule: the whitelist and Odoo's access list (who is never banned, which
networks the firewall drops for good)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from .addresses import CACHE_MAX, IPNetwork, ip_address, parse_networks, subtract_networks


class Lists:
    def __init__(self, whitelist: Iterable[str]) -> None:
        self.whitelist: list[IPNetwork] = parse_networks(whitelist)
        self.allow: list[IPNetwork] = []
        self.deny: list[IPNetwork] = []  # as the access list says
        self.denied: list[IPNetwork] = []  # what the firewall drops for good: deny minus protected
        self.protected_cache: dict[str, bool] = {}  # address -> protected(address)

    def set_whitelist(self, networks: Iterable[str]) -> None:
        self.whitelist = parse_networks(networks)
        self._lists_changed()

    def set_acl(self, entries: Iterable[Mapping[str, Any]]) -> list[IPNetwork]:
        """Odoo's access list (the whole of it); returns the networks to drop for good."""
        allow: list[IPNetwork] = []
        deny: list[IPNetwork] = []
        for entry in entries:
            action = str(entry.get("action", "")).strip().lower()
            if action not in ("allow", "deny"):
                raise ValueError(f"access list action must be allow or deny, not {action!r}")
            network = ipaddress.ip_network(str(entry["address"]).strip(), strict=False)
            if network.version == 6 and network.prefixlen >= 96 and network.network_address.ipv4_mapped:
                mapped = network.network_address.ipv4_mapped
                network = ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}", strict=False)
            (allow if action == "allow" else deny).append(network)
        self.allow, self.deny = allow, deny
        self._lists_changed()
        return self.denied

    def _lists_changed(self) -> None:
        self.protected_cache.clear()
        self.denied = subtract_networks(self.deny, [*self.whitelist, *self.allow])

    def protected(self, address: str) -> bool:
        """Whitelisted or allowed by the access list: never banned."""
        known = self.protected_cache.get(address)
        if known is None:
            ip = ip_address(address)
            known = any(ip in n for n in self.whitelist) or any(ip in n for n in self.allow)
            if len(self.protected_cache) >= CACHE_MAX:
                self.protected_cache.clear()
            self.protected_cache[address] = known
        return known

    def is_denied(self, address: str) -> bool:
        ip = ip_address(address)
        return any(ip in n for n in self.denied)

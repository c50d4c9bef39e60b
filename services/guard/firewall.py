"""Firewall backends. Applying a ban twice is harmless; a failing command raises FirewallError."""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
from collections.abc import Sequence

from services.bus import Log


class FirewallError(RuntimeError):
    pass


class Backend:
    name = "base"

    async def setup(self) -> None: ...

    async def ban(self, address: str, seconds: float) -> None:
        raise NotImplementedError

    async def unban(self, address: str) -> None:
        raise NotImplementedError


class LogBackend(Backend):
    """Only says what it would do (the `make run` default); keeps the set so tests and status can read it."""

    name = "log"

    def __init__(self, log: Log) -> None:
        self.log = log
        self.banned: dict[str, float] = {}

    async def ban(self, address: str, seconds: float) -> None:
        self.banned[address] = seconds
        self.log.warning("firewall (log only): would drop", address=address, seconds=round(seconds))

    async def unban(self, address: str) -> None:
        self.banned.pop(address, None)
        self.log.info("firewall (log only): would accept again", address=address)


async def run(argv: Sequence[str], stdin: str | None = None) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else None,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(stdin.encode() if stdin is not None else None)
    if proc.returncode != 0:
        raise FirewallError(f"{' '.join(argv)}: {err.decode().strip() or out.decode().strip()}")
    return out.decode()


def _family(address: str) -> str:
    return "6" if ipaddress.ip_address(address).version == 6 else "4"


class NftablesBackend(Backend):
    """A table of its own with one set per family; elements carry their own timeout, so a ban ends by itself
    even if the guard is down when it expires."""

    name = "nftables"

    def __init__(self, table: str = "pbx_guard", prefix: Sequence[str] = (), nft: str = "nft") -> None:
        self.table = table
        self.prefix = list(prefix)  # e.g. ["ip", "netns", "exec", "ns1"] in tests
        self.nft = shutil.which(nft) or nft

    async def _nft(self, script: str) -> str:
        return await run([*self.prefix, self.nft, "-f", "-"], stdin=script)

    async def setup(self) -> None:
        t = self.table
        await self._nft(
            f"table inet {t} {{\n"
            f"  set banned4 {{ type ipv4_addr; flags timeout; }}\n"
            f"  set banned6 {{ type ipv6_addr; flags timeout; }}\n"
            f"  chain input {{ type filter hook input priority -10; policy accept;\n"
            f"    ip saddr @banned4 drop\n    ip6 saddr @banned6 drop\n  }}\n}}\n"
        )
        # `table ... { chain ... }` adds rules again on every run: keep exactly one pair.
        listing = await run([*self.prefix, self.nft, "-a", "list", "chain", "inet", t, "input"])
        handles = [line.rsplit("# handle ", 1)[1] for line in listing.splitlines() if "saddr @banned" in line]
        for handle in handles[2:]:
            await run(
                [*self.prefix, self.nft, "delete", "rule", "inet", t, "input", "handle", handle.strip()]
            )

    async def ban(self, address: str, seconds: float) -> None:
        family = _family(address)
        timeout = f" timeout {max(int(seconds), 1)}s" if seconds > 0 else ""
        # Delete first so a longer (recidive) ban replaces a shorter one; missing elements are fine.
        await self._nft(
            f"add element inet {self.table} banned{family} {{ {address} }}\n"
            f"delete element inet {self.table} banned{family} {{ {address} }}\n"
            f"add element inet {self.table} banned{family} {{ {address}{timeout} }}\n"
        )

    async def unban(self, address: str) -> None:
        family = _family(address)
        await self._nft(
            f"add element inet {self.table} banned{family} {{ {address} }}\n"
            f"delete element inet {self.table} banned{family} {{ {address} }}\n"
        )


class IpsetBackend(Backend):
    """ipset sets with per-entry timeouts and one iptables/ip6tables DROP rule each."""

    name = "ipset"

    def __init__(self, prefix: Sequence[str] = ()) -> None:
        self.prefix = list(prefix)

    async def setup(self) -> None:
        for family, tables in (("inet", "iptables"), ("inet6", "ip6tables")):
            name = f"pbx_guard{'6' if family == 'inet6' else '4'}"
            await run(
                [*self.prefix, "ipset", "create", name, "hash:ip", "family", family, "timeout", "0", "-exist"]
            )
            rule = ["INPUT", "-m", "set", "--match-set", name, "src", "-j", "DROP"]
            try:
                await run([*self.prefix, tables, "-C", *rule])  # present already?
            except FirewallError:
                await run([*self.prefix, tables, "-I", *rule])

    async def ban(self, address: str, seconds: float) -> None:
        name = f"pbx_guard{_family(address)}"
        await run(
            [*self.prefix, "ipset", "add", name, address, "timeout", str(max(int(seconds), 0)), "-exist"]
        )

    async def unban(self, address: str) -> None:
        name = f"pbx_guard{_family(address)}"
        await run([*self.prefix, "ipset", "del", name, address, "-exist"])


def make_backend(name: str, log: Log) -> Backend:
    if name == "nftables":
        return NftablesBackend()
    if name == "ipset":
        return IpsetBackend()
    if name == "log":
        return LogBackend(log)
    raise ValueError(f"GUARD_BACKEND must be log, nftables or ipset, not {name!r}")

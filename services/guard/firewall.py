"""Firewall backends. Every call takes a batch; applying it twice is harmless; a refusal raises FirewallError.

- `nftables`: a table of its own (`inet pbx_guard`): sets `banned4`/`banned6` (`flags timeout`: an element
  carries its own timeout, up to MAX_KERNEL_TIMEOUT_S, so the kernel ends a ban even with the guard stopped)
  and `deny4`/`deny6` (`flags interval`: the access list's deny networks), one drop rule each in an input
  chain at priority -10.
- `ipset`: sets `<name>4`/`<name>6` (hash:ip with timeouts), `<name>_deny4`/`<name>_deny6` (hash:net), one
  iptables/ip6tables DROP rule each.
- `log`: says what it would do and keeps the sets in memory (the `make run` default).
"""

from __future__ import annotations

import asyncio
import math
import shutil
from collections.abc import Iterator, Sequence
from typing import TypeVar

from services.bus import Log

from .addresses import IPNetwork

T = TypeVar("T")

COMMAND_TIMEOUT_S = 15.0
CHUNK = 2000  # elements per nft/ipset statement
# The longest timeout handed to the kernel (2**31 ms), by both backends: ipset refuses longer, and an older
# kernel may not take more from nft either (nft 1.0.6 on Linux 6.18 took up to 213503 days). A longer ban
# goes in without timeout and the guard lifts it at its time (on start, if it was stopped then): capping it
# and re-applying it before it runs out would hold the same, with one more timer to keep.
MAX_KERNEL_TIMEOUT_S = 2147483


class FirewallError(RuntimeError):
    pass


def _v6(address: str) -> bool:
    return ":" in address


class Backend:
    name = "base"

    async def setup(self) -> None:
        """Create what is missing (idempotent)."""

    async def apply(self, bans: Sequence[tuple[str, float]], replace: bool = False) -> None:
        """Drop these addresses for their seconds (0 = until removed). `replace`: they may be in already
        with another time, which the new one must replace (slower with nftables: a delete in the
        transaction waits for the kernel's grace period)."""
        raise NotImplementedError

    async def remove(self, addresses: Sequence[str]) -> None:
        """Accept these addresses again; addresses not banned are fine."""
        raise NotImplementedError

    async def set_denied(self, networks: Sequence[IPNetwork]) -> None:
        """Replace the networks dropped for good (the access list's deny entries)."""
        raise NotImplementedError

    async def ban(self, address: str, seconds: float) -> None:
        await self.apply([(address, seconds)], replace=True)

    async def unban(self, address: str) -> None:
        await self.remove([address])


class LogBackend(Backend):
    """Only says what it would do; keeps the sets so tests, benchmarks and status can read them."""

    name = "log"

    def __init__(self, log: Log) -> None:
        self.log = log
        self.banned: dict[str, float] = {}
        self.denied: list[IPNetwork] = []

    async def apply(self, bans: Sequence[tuple[str, float]], replace: bool = False) -> None:
        # One line per call and ban length, naming every address (a flood brings thousands per call).
        by_seconds: dict[int, list[str]] = {}
        for address, seconds in bans:
            self.banned[address] = seconds
            by_seconds.setdefault(round(seconds), []).append(address)
        for seconds, addresses in by_seconds.items():
            self.log.warning(
                "firewall (log only): would drop",
                seconds=seconds,
                count=len(addresses),
                addresses=",".join(addresses),
            )

    async def remove(self, addresses: Sequence[str]) -> None:
        for address in addresses:
            self.banned.pop(address, None)
        if addresses:
            self.log.info(
                "firewall (log only): would accept again", count=len(addresses), addresses=",".join(addresses)
            )

    async def set_denied(self, networks: Sequence[IPNetwork]) -> None:
        self.denied = list(networks)
        self.log.info("firewall (log only): networks dropped for good", networks=",".join(map(str, networks)))


async def run(argv: Sequence[str], stdin: str | None = None, timeout: float = COMMAND_TIMEOUT_S) -> str:
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:  # the command is not installed, or may not be run
        raise FirewallError(f"{argv[0]}: {exc}") from exc
    try:
        out, err = await asyncio.wait_for(
            proc.communicate(stdin.encode() if stdin is not None else None), timeout
        )
    except TimeoutError as exc:
        proc.kill()
        await proc.wait()
        raise FirewallError(f"{' '.join(argv)}: no answer in {timeout:g} s") from exc
    if proc.returncode != 0:
        raise FirewallError(f"{' '.join(argv)}: {err.decode().strip() or out.decode().strip()}")
    return out.decode()


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def nft_timeout(seconds: float) -> str:
    """` timeout 1d6h` for 30 h, or "" for none (0, or past MAX_KERNEL_TIMEOUT_S).

    nft reads no number of 10**8 or more in a time ("value too large": `100000000ms` is 27.8 h), so the
    time goes in days, hours, minutes and seconds, rounded up to a whole second."""
    if not 0 < seconds <= MAX_KERNEL_TIMEOUT_S:
        return ""
    s = max(math.ceil(seconds), 1)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return " timeout " + "".join(f"{n}{unit}" for n, unit in ((d, "d"), (h, "h"), (m, "m"), (s, "s")) if n)


class NftablesBackend(Backend):
    name = "nftables"

    def __init__(self, table: str = "pbx_guard", prefix: Sequence[str] = (), nft: str = "nft") -> None:
        self.table = table
        self.prefix = list(prefix)  # e.g. ["ip", "netns", "exec", "ns1"] in tests
        self.nft = shutil.which(nft) or nft

    async def _script(self, lines: Sequence[str]) -> None:
        if lines:
            await run([*self.prefix, self.nft, "-f", "-"], stdin="\n".join(lines) + "\n")

    async def setup(self) -> None:
        t = f"inet {self.table}"
        # One transaction: sets keep their elements; the chain is flushed and refilled, so its rules are
        # exactly these however often this runs.
        await self._script(
            [
                f"add table {t}",
                f"add set {t} banned4 {{ type ipv4_addr; flags timeout; }}",
                f"add set {t} banned6 {{ type ipv6_addr; flags timeout; }}",
                f"add set {t} deny4 {{ type ipv4_addr; flags interval; }}",
                f"add set {t} deny6 {{ type ipv6_addr; flags interval; }}",
                f"add chain {t} input {{ type filter hook input priority -10; policy accept; }}",
                f"flush chain {t} input",
                f"add rule {t} input ip saddr @deny4 drop",
                f"add rule {t} input ip6 saddr @deny6 drop",
                f"add rule {t} input ip saddr @banned4 drop",
                f"add rule {t} input ip6 saddr @banned6 drop",
            ]
        )

    async def apply(self, bans: Sequence[tuple[str, float]], replace: bool = False) -> None:
        lines = []
        for family in ("4", "6"):
            mine = [(a, s) for a, s in bans if _v6(a) == (family == "6")]
            for chunk in _chunks(mine):
                names = ", ".join(a for a, _ in chunk)
                timed = ", ".join(f"{a}{nft_timeout(s)}" for a, s in chunk)
                if replace:
                    # Kernels before 6.10 keep an element's timeout on a second add: add (so the delete
                    # cannot fail), delete, add with the new timeout, in one transaction so the address is
                    # never let through meanwhile.
                    lines += [
                        f"add element inet {self.table} banned{family} {{ {names} }}",
                        f"delete element inet {self.table} banned{family} {{ {names} }}",
                    ]
                lines.append(f"add element inet {self.table} banned{family} {{ {timed} }}")
        await self._script(lines)

    async def remove(self, addresses: Sequence[str]) -> None:
        lines = []
        for family in ("4", "6"):
            mine = [a for a in addresses if _v6(a) == (family == "6")]
            for chunk in _chunks(mine):
                names = ", ".join(chunk)
                lines += [
                    f"add element inet {self.table} banned{family} {{ {names} }}",
                    f"delete element inet {self.table} banned{family} {{ {names} }}",
                ]
        await self._script(lines)

    async def set_denied(self, networks: Sequence[IPNetwork]) -> None:
        lines = []
        for family in ("4", "6"):
            mine = [str(n) for n in networks if n.version == int(family)]
            lines.append(f"flush set inet {self.table} deny{family}")
            for chunk in _chunks(mine):
                lines.append(f"add element inet {self.table} deny{family} {{ {', '.join(chunk)} }}")
        await self._script(lines)


class IpsetBackend(Backend):
    name = "ipset"

    def __init__(self, name: str = "pbx_guard", prefix: Sequence[str] = ()) -> None:
        self.set_name = name
        self.prefix = list(prefix)

    def _set(self, address: str) -> str:
        return f"{self.set_name}{'6' if _v6(address) else '4'}"

    async def _restore(self, lines: Sequence[str]) -> None:
        if lines:
            await run([*self.prefix, "ipset", "restore", "-exist"], stdin="\n".join(lines) + "\n")

    async def setup(self) -> None:
        n = self.set_name
        await self._restore(
            [
                f"create {n}4 hash:ip family inet timeout 0 maxelem 1048576",
                f"create {n}6 hash:ip family inet6 timeout 0 maxelem 1048576",
                f"create {n}_deny4 hash:net family inet maxelem 1048576",
                f"create {n}_deny6 hash:net family inet6 maxelem 1048576",
            ]
        )
        for tables, v in (("iptables", "4"), ("ip6tables", "6")):
            for name in (f"{n}_deny{v}", f"{n}{v}"):
                rule = ["INPUT", "-m", "set", "--match-set", name, "src", "-j", "DROP"]
                try:
                    await run([*self.prefix, tables, "-w", "-C", *rule])  # present already?
                except FirewallError:
                    await run([*self.prefix, tables, "-w", "-I", *rule])

    async def apply(self, bans: Sequence[tuple[str, float]], replace: bool = False) -> None:
        lines = []
        for address, seconds in bans:
            timeout = max(int(seconds), 1) if 0 < seconds <= MAX_KERNEL_TIMEOUT_S else 0
            # -exist: an element already there gets the new timeout.
            lines.append(f"add {self._set(address)} {address} timeout {timeout}")
        await self._restore(lines)

    async def remove(self, addresses: Sequence[str]) -> None:
        await self._restore([f"del {self._set(a)} {a}" for a in addresses])

    async def set_denied(self, networks: Sequence[IPNetwork]) -> None:
        n = self.set_name
        lines = [f"flush {n}_deny4", f"flush {n}_deny6"]
        for net in networks:
            # hash:net takes prefixes from 1: a /0 goes in as its two halves.
            for part in net.subnets(new_prefix=1) if net.prefixlen == 0 else [net]:
                lines.append(f"add {n}_deny{net.version} {part}")
        await self._restore(lines)


def make_backend(name: str, log: Log, table: str = "pbx_guard") -> Backend:
    if name == "nftables":
        return NftablesBackend(table)
    if name == "ipset":
        return IpsetBackend(table)
    if name == "log":
        return LogBackend(log)
    raise ValueError(f"GUARD_BACKEND must be log, nftables or ipset, not {name!r}")

"""The doctor's checks beside the bus: the console over HTTP, the guard's firewall on this host."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Sequence
from typing import Any

import httpx

from .config import DoctorSettings
from .report import FAIL, OK, WARN, Check

TIMEOUT_S = 5.0


def console_url(settings: DoctorSettings, status: dict[str, str], odoo_config: dict[str, Any] | None) -> str:
    """Where people open the console: the server form's Console URL, else where the console listens."""
    if odoo_config and odoo_config.get("console_url"):
        return str(odoo_config["console_url"]).rstrip("/")
    url = status.get("url") or f"http://127.0.0.1:{settings.console_port}"
    for anywhere in ("://0.0.0.0:", "://[::]:"):
        url = url.replace(anywhere, "://127.0.0.1:")
    return url.rstrip("/")


async def console_check(settings: DoctorSettings, url: str) -> Check:
    if settings.console_disabled:
        return Check(OK, "console", "disabled here (CONSOLE_DISABLED=yes)")
    fix = (
        "is the console running? does the Console URL of the Asterisk Server form (or your proxy) lead to it?"
    )
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False) as client:
            response = await client.get(f"{url}/healthz")
    except httpx.HTTPError as exc:
        return Check(FAIL, "console", f"cannot reach {url}: {str(exc) or type(exc).__name__}", fix)
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "ready" not in body:
        return Check(FAIL, "console", f"{url}/healthz answered {response.status_code}, not the console", fix)
    if response.status_code != 200 or not body["ready"]:
        return Check(FAIL, "console", f"{url} answers but is not ready (it cannot reach Redis)", fix)
    asterisk = "connected" if body.get("asterisk", {}).get("connected") else "not connected"
    return Check(OK, "console", f"reachable at {url} (Asterisk {asterisk})")


async def _run(argv: Sequence[str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return 124, f"no answer in {TIMEOUT_S:g} s"
    return proc.returncode or 0, (out if proc.returncode == 0 else err or out).decode().strip()


async def firewall_check(
    settings: DoctorSettings, guard: dict[str, str], prefix: Sequence[str] = ()
) -> Check:
    """The guard's table in this host's nftables (or its ipset sets). `prefix` runs the tools elsewhere
    (tests: `ip netns exec <ns>`)."""
    backend = guard.get("backend") or settings.guard_backend  # what the running guard uses, if it says
    pending = int(guard.get("firewall_pending") or 0)
    if backend == "log":
        return Check(
            WARN,
            "firewall",
            "the guard only logs its bans (GUARD_BACKEND=log): nothing is blocked",
            "set GUARD_BACKEND=nftables (or ipset) where the guard runs on the Asterisk host",
        )
    table = settings.guard_nft_table
    tool = "nft" if backend == "nftables" else "ipset"
    if not prefix and shutil.which(tool) is None:
        return Check(
            WARN, "firewall", f"{tool} is not installed here", "run `pbx doctor` on the Asterisk host"
        )
    if backend == "nftables":
        code, out = await _run([*prefix, "nft", "-j", "list", "table", "inet", table])
        found = _nft_sets(out) if code == 0 else {}
        wanted: tuple[str, ...] = ("banned4", "banned6", "input chain")
        name = f"table inet {table}"
    else:
        found = {}
        for family in ("4", "6"):
            code, out = await _run([*prefix, "ipset", "list", f"{table}{family}"])
            if code == 0:
                found[f"{table}{family}"] = sum(1 for line in out.splitlines() if line[:1].isdigit())
        wanted = (f"{table}4", f"{table}6")
        name = f"ipset sets {table}4/{table}6"
    if code != 0 and ("Operation not permitted" in out or "Permission denied" in out):
        return Check(WARN, "firewall", f"{tool} may not be read here: {out}", "run `pbx doctor` as root")
    missing = [s for s in wanted if s not in found]
    if missing:
        return Check(
            FAIL,
            "firewall",
            f"{name} is missing ({', '.join(missing)}): bans block nothing on this host",
            "the guard must run on this host as root with NET_ADMIN and GUARD_BACKEND="
            f"{backend}; its log says why the firewall refused",
        )
    banned = sum(found[s] for s in wanted if s != "input chain")
    if pending:
        # The guard's status says why (firewall_error), when it is one that says.
        why = guard.get("firewall_error") or ""
        return Check(
            WARN,
            "firewall",
            f"{name} present, {banned} addresses banned, but {pending} bans or unbans not taken yet"
            + (f": {why}" if why else ""),
            "the guard's log says why the firewall refuses them",
        )
    return Check(OK, "firewall", f"{name} present, {banned} addresses banned in it")


def _nft_sets(out: str) -> dict[str, int]:
    """The table's sets and their element counts, from `nft -j list table`, and whether a chain hooks input
    (without it the sets block nothing)."""
    try:
        items = json.loads(out).get("nftables", [])
    except ValueError:
        return {}
    found = {i["set"]["name"]: len(i["set"].get("elem", [])) for i in items if "set" in i}
    if any(i["chain"].get("hook") == "input" for i in items if "chain" in i):
        found["input chain"] = 0
    return found

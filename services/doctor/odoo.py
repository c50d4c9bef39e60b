"""The doctor's Odoo checks: the bridge's login (system account), its server record, the module's version,
passwords still the seed's. What the bridge may call is all it asks: the system account is a portal user."""

from __future__ import annotations

import asyncio
import urllib.error
from dataclasses import dataclass
from typing import Any

import odoorpc

from services.odoo_bridge.config import DEFAULT_ODOO_PASSWORD
from services.odoo_bridge.odoo import odoo_rpc

from .config import DoctorSettings
from .report import FAIL, OK, WARN, Check, skipped

TIMEOUT_S = 10.0
# The oldest module this agent works with: the first to say its version (bridge_get_config).
MODULE_NEEDED = (1, 1, 0)
DEFAULT_AMI_SECRET = "admin"


@dataclass
class OdooFacts:
    logged_in: bool = False
    version: str = ""
    config: dict[str, Any] | None = None


def _login(settings: DoctorSettings) -> odoorpc.ODOO:
    odoo = odoo_rpc(settings.odoo_url, TIMEOUT_S)
    odoo.login(settings.odoo_db, settings.odoo_user, settings.odoo_password)
    return odoo


def _rpc_error(exc: odoorpc.error.RPCError) -> str:
    info = exc.info if isinstance(exc.info, dict) else {}
    name = info.get("data", {}).get("name", "") if isinstance(info.get("data"), dict) else ""
    return f"{name.rsplit('.', 1)[-1]}: {exc}" if name else str(exc)


async def gather(settings: DoctorSettings, checks: list[Check]) -> OdooFacts:
    """Appends odoo.login and odoo.module."""
    facts = OdooFacts()
    where = f"{settings.odoo_user}@{settings.odoo_url} (database {settings.odoo_db})"
    try:
        odoo = await asyncio.to_thread(_login, settings)
    except odoorpc.error.RPCError as exc:
        checks.append(
            Check(
                FAIL,
                "odoo.login",
                f"Odoo refused {where}: {_rpc_error(exc)}",
                "check ODOO_DB, ODOO_USER and ODOO_PASSWORD (the Password on the Asterisk Server form)",
            )
        )
        return facts
    except (OSError, urllib.error.URLError, odoorpc.error.InternalError, ValueError) as exc:
        checks.append(
            Check(
                FAIL,
                "odoo.login",
                f"cannot reach Odoo at {settings.odoo_url}: {exc}",
                "check ODOO_URL and that Odoo runs and answers from here",
            )
        )
        return facts
    facts.logged_in, facts.version = True, odoo.version
    checks.append(Check(OK, "odoo.login", f"logged in to Odoo {odoo.version} as {where}"))
    try:
        config: dict[str, Any] = await asyncio.to_thread(
            odoo.execute_kw, "asterisk_plus.server", "bridge_get_config", [settings.agent_server]
        )
    except odoorpc.error.RPCError as exc:
        text = _rpc_error(exc)
        if "AccessError" in text:
            fix = f"set ODOO_USER to the system account of server {settings.agent_server} (its form's User)"
        elif "No Asterisk server" in text:
            fix = (
                f"create the Asterisk Server {settings.agent_server} in Odoo, or set AGENT_SERVER to its name"
            )
        else:
            fix = "install the asterisk_plus module in this database (Apps), or upgrade it"
        checks.append(Check(FAIL, "odoo.module", f"bridge_get_config({settings.agent_server}): {text}", fix))
        return facts
    except (OSError, urllib.error.URLError, odoorpc.error.InternalError) as exc:
        checks.append(Check(FAIL, "odoo.module", f"bridge_get_config: {exc}", "is Odoo answering?"))
        return facts
    facts.config = config
    checks.append(_module_check(config, settings))
    return facts


def _version(text: str) -> tuple[int, ...]:
    """`18.0.1.1.0` (as Odoo stores it) or `1.1.0` -> (1, 1, 0)."""
    parts = [int(p) for p in text.split(".") if p.isdigit()]
    return tuple(parts[2:] if len(parts) == 5 else parts)


def _module_check(config: dict[str, Any], settings: DoctorSettings) -> Check:
    needed = ".".join(map(str, MODULE_NEEDED))
    version = str(config.get("module_version") or "")
    upgrade = "upgrade asterisk_plus in Odoo (Apps > Asterisk Plus > Upgrade)"
    if not version:
        return Check(
            WARN, "odoo.module", f"asterisk_plus does not say its version: older than {needed}", upgrade
        )
    if _version(version) < MODULE_NEEDED:
        return Check(WARN, "odoo.module", f"asterisk_plus {version} is older than {needed}", upgrade)
    return Check(OK, "odoo.module", f"asterisk_plus {version}, server {settings.agent_server} found")


def password_check(settings: DoctorSettings, odoo: OdooFacts, ami_logged_in: bool) -> Check:
    """Passwords anyone can read in this project's sources, still accepted."""
    found = []
    if odoo.logged_in and settings.odoo_password == DEFAULT_ODOO_PASSWORD:
        found.append(f"the Odoo system account {settings.odoo_user} ({DEFAULT_ODOO_PASSWORD})")
    if ami_logged_in and settings.ami_secret == DEFAULT_AMI_SECRET:
        found.append(f"the AMI user {settings.ami_user} ({DEFAULT_AMI_SECRET})")
    if not odoo.logged_in and not ami_logged_in:
        return skipped("passwords", "needs the Odoo or AMI login")
    if found:
        return Check(
            WARN,
            "passwords",
            f"default password still in use: {' and '.join(found)}; anyone who reaches it acts as the agent",
            "set a new Password on the Asterisk Server form and the same ODOO_PASSWORD; a new secret= in "
            "manager.conf and AMI_SECRET",
        )
    return Check(OK, "passwords", "no default password in use")

"""The checks in the chain's order. A part that cannot be reached makes the checks needing it SKIP."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from services.bus import REDIS_DOWN, Bus

from . import ami, clock, host, odoo, streams
from .config import DoctorSettings
from .report import FAIL, Check, skipped

REDIS_TIMEOUT_S = 10.0


@dataclass
class Limits:
    events_max_age_s: float = streams.EVENTS_MAX_AGE_S
    group_max_lag: int = streams.GROUP_MAX_LAG


async def doctor(bus: Bus, settings: DoctorSettings, limits: Limits | None = None) -> list[Check]:
    limits = limits or Limits()
    checks: list[Check] = []
    statuses: dict[str, dict[str, str]] | None = None
    try:
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            checks.append(await streams.redis_check(bus, settings))
            statuses = await streams.status_of(bus)
    except (*REDIS_DOWN, TimeoutError) as exc:
        where = streams.redacted(settings.redis_url)
        fix = "start Redis, or fix REDIS_URL (REDIS_SENTINELS, REDIS_PASSWORD)"
        checks.append(Check(FAIL, "redis", f"cannot reach {where}: {str(exc) or type(exc).__name__}", fix))
    if statuses is not None:
        checks += streams.service_checks(statuses, settings)
    else:
        checks.append(skipped("services", "needs Redis"))

    ami_facts = await ami.gather(settings, checks)
    if not ami_facts.logged_in:
        checks += [skipped(n, "needs the AMI login") for n in ("ami.write", "ami.read", "clock")]
    if statuses is not None:
        checks.append(await streams.events_check(bus, statuses["ami_gateway"], limits.events_max_age_s))
    else:
        checks.append(skipped("events", "needs Redis"))

    odoo_facts = await odoo.gather(settings, checks)
    if not odoo_facts.logged_in:
        checks.append(skipped("odoo.module", "needs the Odoo login"))
    tz = odoo_facts.config.get("tz") if odoo_facts.config else None
    checks.append(clock.timezone_check(ami_facts, tz))
    checks.append(odoo.password_check(settings, odoo_facts, ami_facts.logged_in))

    console_status = (statuses or {}).get("console", {})
    url = host.console_url(settings, console_status, odoo_facts.config)
    checks.append(await host.console_check(settings, url))
    checks.append(await host.firewall_check(settings, (statuses or {}).get("guard", {})))

    if statuses is not None:
        checks.append(await streams.groups_check(bus, limits.group_max_lag))
        checks.append(await streams.dead_check(bus))
    else:
        checks += [skipped(n, "needs Redis") for n in ("groups", "dead")]
    return checks

"""The doctor's checks on Redis: reachable and persistent, each service's status, events flowing, the consumer
groups keeping up, dead letters waiting."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.exceptions import ResponseError

from services.bus import Bus, keys, parse_iso, seconds_since_update

from .config import DoctorSettings
from .report import FAIL, OK, WARN, Check, skipped

SERVICES = ("ami_gateway", "odoo_bridge", "conf_sync", "guard", "console", "phonebook", "recordings")
STATUS_MAX_AGE_S = 30.0  # as the health check: a live service rewrites its status every 5 s


def redacted(url: str) -> str:
    """The URL without its password, for a line people paste into tickets."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


def _merged(info: Any) -> list[dict[str, Any]]:
    """INFO of one Redis, or of every node of a cluster ({node: info})."""
    if info and all(isinstance(v, dict) for v in info.values()):
        return list(info.values())
    return [info]


async def redis_check(bus: Bus, settings: DoctorSettings) -> Check:
    where = redacted(settings.redis_url)
    if settings.redis_sentinels:
        where = f"master {settings.redis_master_name} of Sentinels {settings.redis_sentinels}"
    await bus.redis.ping()  # a failure is the caller's: it turns it into the FAIL line
    nodes = _merged(await bus.redis.info("persistence"))
    server = _merged(await bus.redis.info("server"))[0]
    version = f"Redis {server.get('redis_version', '?')}"
    if all(str(n.get("aof_enabled")) == "1" for n in nodes):
        return Check(OK, "redis", f"{where} answers ({version}), append-only file on")
    fix = "set appendonly yes (redis.conf, or CONFIG SET appendonly yes and CONFIG REWRITE)"
    saves = None
    try:
        saves = (await bus.redis.config_get("save")).get("save")
    except ResponseError:
        pass  # CONFIG is often renamed or refused on managed Redis
    if saves == "":
        return Check(
            FAIL,
            "redis",
            f"{where} ({version}) keeps nothing on disk (no append-only file, no snapshots): a restart "
            "loses every stream and every pending entry",
            fix,
        )
    return Check(
        WARN,
        "redis",
        f"{where} ({version}) has no append-only file: a restart loses what came after the last snapshot",
        fix,
    )


async def status_of(bus: Bus) -> dict[str, dict[str, str]]:
    return {name: await bus.redis.hgetall(bus.key(keys.status(name))) for name in SERVICES}


def service_checks(statuses: dict[str, dict[str, str]], settings: DoctorSettings) -> list[Check]:
    out = []
    for name in SERVICES:
        label = f"svc.{name}"
        fields = statuses[name]
        start = f"start it: `python -m services.{name}`, or `docker compose up -d {name}`"
        if name == "console" and settings.console_disabled:
            out.append(Check(OK, label, "disabled here (CONSOLE_DISABLED=yes)"))
            continue
        if not fields:
            out.append(Check(FAIL, label, "has never reported to Redis: not running against this bus", start))
            continue
        age = seconds_since_update(fields)
        where = f"pid {fields.get('pid', '?')} on {fields.get('host', '?')}"
        if age > STATUS_MAX_AGE_S:
            out.append(Check(FAIL, label, f"silent for {age:.0f} s (last {where}): not running", start))
        elif fields.get("ready") != "1":
            reason = fields.get("reason") or "starting"
            out.append(Check(FAIL, label, f"running ({where}) but not ready: {reason}", _fix_for(reason)))
        else:
            out.append(Check(OK, label, f"ready ({where})"))
    return out


def _fix_for(reason: str) -> str:
    if reason.startswith("AMI"):
        return "see the ami.* lines below"
    if reason.startswith("Odoo"):
        return "see the odoo.* lines below"
    return "see the service's log"


EVENTS_MAX_AGE_S = 3600.0


async def events_check(bus: Bus, gateway: dict[str, str], max_age_s: float = EVENTS_MAX_AGE_S) -> Check:
    """The gateway's last AMI event (its status hash) and the events stream."""
    if not gateway or seconds_since_update(gateway) > STATUS_MAX_AGE_S:
        return skipped("events", "needs a running ami_gateway")
    if gateway.get("ami_connected") != "1":
        return skipped("events", "needs the gateway connected to Asterisk")
    length = await bus.redis.xlen(bus.key(keys.EVENTS))
    last = gateway.get("last_event_at", "")
    if not last:
        return Check(
            WARN,
            "events",
            "the gateway is connected but has received no event since it started",
            "check read= of the AMI user in manager.conf (see ami.read)",
        )
    age = time.time() - parse_iso(last).timestamp()
    if age > max_age_s:
        return Check(
            WARN,
            "events",
            f"no event from Asterisk for {age / 60:.0f} min (last {last}; {length} in the events stream)",
            "normal on an idle PBX; if calls were made meanwhile, check read= in manager.conf (ami.read)",
        )
    return Check(OK, "events", f"last event {age:.0f} s ago; {length} entries in the events stream")


GROUP_MAX_LAG = 1000


async def groups_check(bus: Bus, max_lag: int = GROUP_MAX_LAG) -> Check:
    streams = [
        keys.EVENTS,
        keys.SECURITY,
        keys.ACTIONS,
        keys.TO_ODOO,
        keys.ODOO_REPLIES,
        keys.RECORDINGS,
        *(keys.commands(s) for s in SERVICES),
    ]
    behind, worst = [], ("", -1.0, 0)
    seen = 0
    for stream in streams:
        try:
            groups = await bus.redis.xinfo_groups(bus.key(stream))
        except ResponseError:
            continue  # no such stream yet
        for group in groups:
            seen += 1
            lag = group.get("lag")
            lag = float("inf") if lag is None else float(lag)
            pending = int(group.get("pending") or 0)
            if lag > worst[1]:
                worst = (f"{group['name']} on {stream}", lag, pending)
            if lag > max_lag:
                shown = "an unknown number of" if lag == float("inf") else f"{lag:.0f}"
                behind.append(f"{group['name']} is {shown} entries behind on {stream} ({pending} pending)")
    if not seen:
        return Check(WARN, "groups", "no consumer group on the bus: no service has read from it yet")
    if behind:
        return Check(
            WARN,
            "groups",
            "; ".join(behind),
            "is that service running and its far end (Odoo, Asterisk) answering? `pbx streams`, its log",
        )
    return Check(OK, "groups", f"{seen} groups keep up (largest lag: {worst[0]}, {worst[1]:.0f})")


async def dead_check(bus: Bus) -> Check:
    key = bus.key(keys.DEAD)
    count = await bus.redis.xlen(key)
    if not count:
        return Check(OK, "dead", "no dead letters")
    _, newest = (await bus.redis.xrevrange(key, count=1))[0]
    error = newest.get("@error", "?")
    fix = "read them with `pbx dead` and fix the cause; they are never retried by themselves"
    if "on the bus" in error:
        # Odoo looks each entry up on the bus (docs/odoo-api.md) and did not find it: it reads another one.
        fix = (
            "Odoo reads another bus: the Bus (Redis) URL and prefix of the Asterisk Server form must be this "
            "agent's REDIS_URL and PBX_PREFIX; then " + fix
        )
    return Check(
        WARN,
        "dead",
        f"{count} dead letters; the newest ({newest.get('@dead_at', '?')}) from {newest.get('@group', '?')} "
        f"on {newest.get('@source', '?')}: {error[:200]}",
        fix,
    )

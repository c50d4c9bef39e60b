"""What each `pbx` sub-command does (services/cli/parser.py names them), on a bus opened for the command."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from services.bus import Bus, Entry, Requester, RequestTimeout, keys


def _print_entry(entry_id: str, fields: dict[str, str]) -> None:
    lines = [entry_id, *(f"  {name}: {value}" for name, value in fields.items())]
    print("\n".join(lines), flush=True)  # whole, and at once: `pbx tail` is read through pipes


BRIEF = (
    "Event",
    "Channel",
    "CallerIDNum",
    "Exten",
    "DialStatus",
    "Cause-txt",
    "RemoteAddress",
    "Disposition",
)


def _print_brief(entry_id: str, fields: dict[str, str]) -> None:
    shown = " ".join(f"{k}={fields[k]}" for k in BRIEF if fields.get(k))
    print(f"{entry_id} {fields.get('@type', '')} {shown}", flush=True)


def _pairs(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"expected Header=Value, got {item!r}")
        out.setdefault(name, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


async def streams(bus: Bus, args: argparse.Namespace) -> int:
    found = sorted([k async for k in bus.redis.scan_iter(match=bus.keys.base + "*", _type="STREAM")])
    if not found:
        print(f"no streams under {bus.keys.base}")
    for key in found:
        length = await bus.redis.xlen(key)
        print(f"{bus.keys.relative(key):32} length={length}")
        for group in await bus.redis.xinfo_groups(key):
            print(
                f"    group {group['name']:18} pending={group['pending']} lag={group.get('lag')} "
                f"consumers={group['consumers']} last={group['last-delivered-id']}"
            )
    return 0


async def tail(bus: Bus, args: argparse.Namespace) -> int:
    key = bus.key(args.stream)
    last = args.start
    shown = 0
    me = asyncio.current_task()
    while True:
        # Ctrl-C cancels this task; Python 3.11's wait_for (inside redis-py) can swallow that CancelledError
        # when the read completes at the same moment, and the loop would go on. The request stays counted.
        if me is not None and me.cancelling():
            raise asyncio.CancelledError
        result = await bus.redis.xread({key: last}, block=1000, count=100)
        for _, entries in result or []:
            for entry_id, fields in entries:
                if args.brief:
                    _print_brief(entry_id, fields)
                else:
                    _print_entry(entry_id, fields)
                last = entry_id
                shown += 1
                if args.count and shown >= args.count:
                    return 0


async def action(bus: Bus, args: argparse.Namespace) -> int:
    requester = Requester(bus, f"pbx-cli.{os.getpid()}")
    try:
        reply = await requester.request(
            keys.ACTIONS,
            {"Action": args.action, **_pairs(args.headers)},
            timeout=args.timeout,
            user="pbx-cli",
        )
    except RequestTimeout as exc:
        print(f"error: {exc} (is ami_gateway running?)", file=sys.stderr)
        return 2
    finally:
        await requester.close()
    _print_reply(reply)
    return 0 if reply.meta.get("status") == "ok" else 1


def _print_reply(reply: Entry) -> None:
    print(f"status: {reply.meta.get('status')}")
    if reply.meta.get("error"):
        print(f"error: {reply.meta['error']}")
    for name, value in reply.headers.items():
        if name == "Output":
            print("Output:")
            for line in str(value).split("\n"):
                print(f"  {line}")
        else:
            print(f"{name}: {value}")
    if reply.meta.get("json"):
        for item in reply.json():
            print("  - " + " ".join(f"{k}={v}" for k, v in item.items()))


async def send(bus: Bus, args: argparse.Namespace) -> int:
    payload = json.loads(args.json) if args.json else None
    entry_id = await bus.publish(
        keys.commands(args.service), _pairs(args.headers), type=args.type, payload=payload, user="pbx-cli"
    )
    print(f"{keys.commands(args.service)} {entry_id}")
    return 0


async def dead(bus: Bus, args: argparse.Namespace) -> int:
    for entry_id, fields in await bus.redis.xrevrange(bus.key(keys.DEAD), count=args.count):
        _print_entry(entry_id, fields)
    return 0


async def status(bus: Bus, args: argparse.Namespace) -> int:
    async for key in bus.redis.scan_iter(match=bus.key("status:*")):
        fields = await bus.redis.hgetall(key)
        degraded = fields.get("degraded")
        print(bus.keys.relative(key) + (f"  DEGRADED: {degraded}" if degraded else ""))
        for name, value in sorted(fields.items()):
            print(f"  {name}: {value}")
    return 0


async def doctor(bus: Bus, args: argparse.Namespace) -> int:
    # Imported here: the doctor pulls in every service's settings and odoorpc, which no other command needs.
    from services.doctor import doctor as run_doctor
    from services.doctor import exit_code
    from services.doctor.config import DoctorSettings
    from services.doctor.run import Limits

    checks = await run_doctor(bus, DoctorSettings(), Limits(args.events_max_age, args.max_lag))
    for check in checks:
        print(check.line(), flush=True)
    return exit_code(checks)

"""`pbx`: look at and poke the bus from a terminal.

pbx streams                      streams of this server: length, groups, pending, lag, dead letters
pbx tail events [--from 0]       print entries as they arrive (Ctrl-C to stop)
pbx action Ping                  send an AMI action through the gateway and print the reply
pbx action Command Command="core show version"
pbx send conf_sync download      publish a command for a service (commands:<service>)
pbx dead                         the dead letters, with their errors
pbx status                       every service's status hash
pbx doctor                       check the whole chain, one line each; exit 0 ok, 1 warnings, 2 failures
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from services.bus import Bus, BusSettings, Entry, Requester, RequestTimeout, keys


def _print_entry(entry_id: str, fields: dict[str, str]) -> None:
    print(entry_id)
    for name, value in fields.items():
        print(f"  {name}: {value}")


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


async def cmd_streams(bus: Bus, args: argparse.Namespace) -> int:
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


async def cmd_tail(bus: Bus, args: argparse.Namespace) -> int:
    key = bus.key(args.stream)
    last = args.start
    shown = 0
    while True:
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


async def cmd_action(bus: Bus, args: argparse.Namespace) -> int:
    requester = Requester(bus, f"pbx-cli.{__import__('os').getpid()}")
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


async def cmd_send(bus: Bus, args: argparse.Namespace) -> int:
    payload = json.loads(args.json) if args.json else None
    entry_id = await bus.publish(
        keys.commands(args.service), _pairs(args.headers), type=args.type, payload=payload, user="pbx-cli"
    )
    print(f"{keys.commands(args.service)} {entry_id}")
    return 0


async def cmd_dead(bus: Bus, args: argparse.Namespace) -> int:
    for entry_id, fields in await bus.redis.xrevrange(bus.key(keys.DEAD), count=args.count):
        _print_entry(entry_id, fields)
    return 0


async def cmd_status(bus: Bus, args: argparse.Namespace) -> int:
    async for key in bus.redis.scan_iter(match=bus.key("status:*")):
        fields = await bus.redis.hgetall(key)
        degraded = fields.get("degraded")
        print(bus.keys.relative(key) + (f"  DEGRADED: {degraded}" if degraded else ""))
        for name, value in sorted(fields.items()):
            print(f"  {name}: {value}")
    return 0


async def cmd_doctor(bus: Bus, args: argparse.Namespace) -> int:
    from services.doctor import doctor, exit_code
    from services.doctor.config import DoctorSettings
    from services.doctor.run import Limits

    checks = await doctor(bus, DoctorSettings(), Limits(args.events_max_age, args.max_lag))
    for check in checks:
        print(check.line(), flush=True)
    return exit_code(checks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pbx", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("streams")
    tail = sub.add_parser("tail")
    tail.add_argument("stream")
    tail.add_argument(
        "--from", dest="start", default="$", help="entry id to start after (0 = from the start)"
    )
    tail.add_argument("--count", type=int, default=0)
    tail.add_argument("--brief", action="store_true", help="one line per entry")
    action = sub.add_parser("action")
    action.add_argument("action")
    action.add_argument("headers", nargs="*", help="Header=Value")
    action.add_argument("--timeout", type=float, default=10.0)
    send = sub.add_parser("send")
    send.add_argument("service")
    send.add_argument("type")
    send.add_argument("headers", nargs="*", help="field=value")
    send.add_argument("--json", help="JSON payload for @json")
    dead = sub.add_parser("dead")
    dead.add_argument("--count", type=int, default=20)
    sub.add_parser("status")
    doctor = sub.add_parser("doctor")
    doctor.add_argument(
        "--events-max-age", type=float, default=3600, help="seconds without an AMI event: WARN"
    )
    doctor.add_argument("--max-lag", type=int, default=1000, help="entries a group may be behind: WARN above")
    args = parser.parse_args(argv)
    handler = globals()[f"cmd_{args.cmd}"]

    async def _run() -> int:
        bus = Bus(BusSettings())
        try:
            return await handler(bus, args)
        finally:
            await bus.close()

    try:
        return asyncio.run(_run())
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())

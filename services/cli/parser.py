"""The `pbx` command line: one argparse sub-command per command, each naming its handler."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from services.bus import Bus, BusSettings

from . import commands

Handler = Callable[[Bus, argparse.Namespace], Awaitable[int]]


def build_parser(description: str = "") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pbx", description=description, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("streams").set_defaults(func=commands.streams)

    tail = sub.add_parser("tail")
    tail.add_argument("stream")
    tail.add_argument(
        "--from", dest="start", default="$", help="entry id to start after (0 = from the start)"
    )
    tail.add_argument("--count", type=int, default=0)
    tail.add_argument("--brief", action="store_true", help="one line per entry")
    tail.set_defaults(func=commands.tail)

    action = sub.add_parser("action")
    action.add_argument("action")
    action.add_argument("headers", nargs="*", help="Header=Value")
    action.add_argument("--timeout", type=float, default=10.0)
    action.set_defaults(func=commands.action)

    send = sub.add_parser("send")
    send.add_argument("service")
    send.add_argument("type")
    send.add_argument("headers", nargs="*", help="field=value")
    send.add_argument("--json", help="JSON payload for @json")
    send.set_defaults(func=commands.send)

    dead = sub.add_parser("dead")
    dead.add_argument("--count", type=int, default=20)
    dead.set_defaults(func=commands.dead)

    sub.add_parser("status").set_defaults(func=commands.status)

    doctor = sub.add_parser("doctor")
    doctor.add_argument(
        "--events-max-age", type=float, default=3600, help="seconds without an AMI event: WARN"
    )
    doctor.add_argument("--max-lag", type=int, default=1000, help="entries a group may be behind: WARN above")
    doctor.set_defaults(func=commands.doctor)
    return parser


def run(argv: list[str] | None, description: str = "") -> int:
    args = build_parser(description).parse_args(argv)
    handler: Handler = args.func

    async def _run() -> int:
        bus = Bus(BusSettings())
        try:
            return await handler(bus, args)
        finally:
            await bus.close()

    return asyncio.run(_run())

"""`pbx`: look at and poke the bus from a terminal.

pbx streams                      streams of this server: length, groups, pending, lag, dead letters
pbx tail events [--from 0]       print entries as they arrive (Ctrl-C to stop)
pbx action Ping                  send an AMI action through the gateway and print the reply
pbx action Command Command="core show version"
pbx send conf_sync download      publish a command for a service (commands:<service>)
pbx dead                         the dead letters, with their errors
pbx status                       every service's status hash
pbx doctor                       check the whole chain, one line each; exit 0 ok, 1 warnings, 2 failures

This module imports nothing heavy: a Ctrl-C while the bus library and its dependencies load (about a second
on a busy machine) is caught here like one during `pbx tail`, and the command ends with 0, no traceback.
"""

from __future__ import annotations

import asyncio


def main(argv: list[str] | None = None) -> int:
    try:
        from .parser import run

        return run(argv, __doc__ or "")
    except (KeyboardInterrupt, asyncio.CancelledError):
        return 0

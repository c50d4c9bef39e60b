"""Running a service: logging, signals, a stop event; SIGTERM/SIGINT end it cleanly with exit code 0."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

from . import log as bus_log


def run(name: str, main: Callable[[asyncio.Event], Awaitable[None]], level: str = "INFO") -> None:
    bus_log.setup(level)
    logger = bus_log.Log(name)

    async def _run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def _on_signal(signum: int) -> None:
            if not stop.is_set():
                logger.info("stopping", signal=signal.Signals(signum).name)
            stop.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, _on_signal, signum)
        await main(stop)

    logger.info("starting")
    asyncio.run(_run())
    logger.info("stopped")


async def run_until_stopped(stop: asyncio.Event, *coros: Awaitable[None]) -> None:
    """Run a service's loops together; if one dies with an error, stop the others and re-raise it."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if task.exception() is not None:
                stop.set()
                raise task.exception()  # type: ignore[misc]
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)

"""Running a service: logging, signals, a stop event; SIGTERM/SIGINT end it cleanly with exit code 0."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from . import log as bus_log

GC_THRESHOLDS = (10_000, 10, 10)


def tune_gc() -> None:
    """Python's cycle collector runs after every 700 new objects by default, and each entry a service reads
    or writes is a handful of them (redis-py's lists and dicts, the decoded Entry): in a flood it took ~10% of
    the guard's time. Every 10,000 it is noise; reference counting still frees nearly everything at once
    (cycles are rare). What was imported at start is frozen, so the oldest generation's collections do not
    walk it again and again."""
    gc.set_threshold(*GC_THRESHOLDS)
    gc.freeze()


def run(name: str, main: Callable[[asyncio.Event], Awaitable[None]], level: str = "INFO") -> None:
    bus_log.setup(level)
    tune_gc()
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


class _Service(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


def serve(name: str, settings_type: Callable[[], Any], service_type: Callable[[Any, Any], _Service]) -> None:
    """A service's whole `__main__`: settings from the environment, its metrics served, Redis reached, its
    loop until stopped."""
    from .bus import Bus, wait_for_redis
    from .exporter import Metrics

    async def main(stop: asyncio.Event) -> None:
        settings = settings_type()
        bus = Bus(settings)
        # Before Redis answers: a scrape then says so (pbx_redis_up 0) instead of finding nobody.
        metrics = await Metrics.start(name, settings, bus)
        try:
            await wait_for_redis(bus, stop)
            if not stop.is_set():
                await service_type(settings, bus).run(stop)
        finally:
            await metrics.close()
        await bus.close()

    run(name, main, settings_type().log_level)

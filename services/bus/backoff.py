"""Waiting: a sleep a stop cuts short, and the one exponential backoff every retry loop uses."""

from __future__ import annotations

import asyncio


async def sleep(seconds: float, stop: asyncio.Event | None = None) -> None:
    """Sleep, or less when `stop` is set meanwhile."""
    if stop is None:
        await asyncio.sleep(seconds)
        return
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


class Backoff:
    """Each failure doubles the wait, from `first` up to `most`; a success resets it.

    `delay` is the wait the last failure earned (0 after a reset), `next()` the one after one more failure.
    """

    def __init__(self, first: float, most: float) -> None:
        self.first = first
        self.most = most
        self.delay = 0.0

    def next(self) -> float:
        self.delay = min(max(self.delay * 2, self.first), self.most)
        return self.delay

    def reset(self) -> None:
        self.delay = 0.0

    @property
    def at_most(self) -> bool:
        """The wait has grown to its ceiling: failing for a while now."""
        return self.delay >= self.most

    async def sleep(self, stop: asyncio.Event | None = None) -> None:
        """After one more failure: wait the next delay, or less when `stop` is set."""
        await sleep(self.next(), stop)

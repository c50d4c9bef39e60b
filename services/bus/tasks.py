"""Background tasks a callback starts (a sync callback cannot await): kept and awaited on stop.

The event loop holds only a weak reference to a task, so an untracked one can vanish mid-way, and one still
running at exit is cancelled without a word. A `Tasks` keeps each until it is done, logs what one raised,
and `wait()` lets a service's stop finish them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from .log import Log


class Tasks:
    def __init__(self, log: Log) -> None:
        self.log = log
        self._running: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._running.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._running.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.log.error(
                "background task failed", task=task.get_name(), error=f"{type(exc).__name__}: {exc}"
            )

    def __len__(self) -> int:
        return len(self._running)

    async def wait(self) -> None:
        """Until every task started so far (and any they start) is done."""
        while self._running:
            await asyncio.wait(set(self._running))

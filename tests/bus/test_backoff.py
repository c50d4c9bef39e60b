"""One backoff for every retry loop: doubling from its first wait to its ceiling, reset by a success."""

from __future__ import annotations

import asyncio

from services.bus import Backoff, sleep


def test_each_failure_doubles_the_wait_up_to_the_ceiling_and_a_success_resets_it() -> None:
    backoff = Backoff(0.1, 1.0)
    assert backoff.delay == 0 and not backoff.at_most
    assert [backoff.next() for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert backoff.at_most
    backoff.reset()
    assert backoff.delay == 0 and backoff.next() == 0.1


async def test_a_stop_cuts_a_sleep_short() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.call_later(0.05, stop.set)
    sleeping = asyncio.create_task(sleep(3600, stop))
    await asyncio.wait_for(sleeping, 10)  # an hour's sleep ends with the stop
    assert stop.is_set()
    backoff = Backoff(3600, 3600)
    await asyncio.wait_for(backoff.sleep(stop), 10)  # already stopped: no wait at all
    assert backoff.delay == 3600

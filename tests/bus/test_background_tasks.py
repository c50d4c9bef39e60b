"""Tasks a callback starts are kept until done, their failures logged, and a stop waits for them."""

from __future__ import annotations

import asyncio
import logging

import pytest

from services.bus import Log, Tasks


async def test_a_spawned_task_runs_to_its_end_and_wait_returns_after_it() -> None:
    tasks = Tasks(Log("test"))
    done: list[str] = []

    async def slow(name: str) -> None:
        await asyncio.sleep(0.05)
        done.append(name)

    tasks.spawn(slow("a"))
    tasks.spawn(slow("b"))
    assert len(tasks) == 2
    await tasks.wait()
    assert sorted(done) == ["a", "b"] and len(tasks) == 0


async def test_wait_also_waits_for_tasks_started_by_the_tasks_it_waits_for() -> None:
    tasks = Tasks(Log("test"))
    done: list[str] = []

    async def second() -> None:
        await asyncio.sleep(0.02)
        done.append("second")

    async def first() -> None:
        tasks.spawn(second())
        done.append("first")

    tasks.spawn(first())
    await tasks.wait()
    assert done == ["first", "second"]


async def test_a_failing_task_is_logged_with_its_error(caplog: pytest.LogCaptureFixture) -> None:
    tasks = Tasks(Log("test.tasks"))

    async def broken() -> None:
        raise ValueError("no such thing")

    with caplog.at_level(logging.ERROR, logger="test.tasks"):
        tasks.spawn(broken(), name="broken-one")
        await tasks.wait()
    [record] = [r for r in caplog.records if r.name == "test.tasks"]
    assert record.getMessage() == "background task failed"
    assert record.fields == {"task": "broken-one", "error": "ValueError: no such thing"}  # type: ignore[attr-defined]

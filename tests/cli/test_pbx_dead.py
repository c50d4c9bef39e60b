"""`pbx dead`: the dead letters, newest first, each with its fields and the error that put it there."""

from __future__ import annotations

from services.bus import Bus

from .conftest import pbx


async def test_newest_first_with_their_errors(redis_url: str, prefix: str, bus: Bus) -> None:
    ids = [
        await bus.publish("dead", {"Event": "Cdr", "Seq": str(n)}, type="ami", error=f"Odoo refused {n}")
        for n in range(3)
    ]
    done = await pbx(redis_url, prefix, "dead")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line for line in lines if not line.startswith(" ")] == ids[::-1]
    newest = lines[1 : lines.index(ids[1])]
    assert {"  Seq: 2", "  @error: Odoo refused 2"} <= set(newest)


async def test_count_limits_to_the_newest(redis_url: str, prefix: str, bus: Bus) -> None:
    ids = [await bus.publish("dead", {"n": str(n)}, type="ami") for n in range(5)]
    done = await pbx(redis_url, prefix, "dead", "--count", "2")
    assert [line for line in done.stdout.splitlines() if not line.startswith(" ")] == ids[:2:-1]


async def test_none_prints_nothing(redis_url: str, prefix: str) -> None:
    done = await pbx(redis_url, prefix, "dead")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")

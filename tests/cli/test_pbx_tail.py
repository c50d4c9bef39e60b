"""`pbx tail`: entries as they arrive, whole or one line each; Ctrl-C ends it with 0 and no traceback."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import pytest

from services.bus import Bus

from .conftest import pbx, start_pbx


async def test_from_the_start_every_field_of_each_entry(redis_url: str, prefix: str, bus: Bus) -> None:
    ids = [await bus.publish("events", {"Event": "Hangup", "Seq": str(n)}, type="ami") for n in range(3)]
    done = await pbx(redis_url, prefix, "tail", "events", "--from", "0", "--count", "3")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line for line in lines if not line.startswith(" ")] == ids
    first = lines[1 : lines.index(ids[1])]
    assert {"  Event: Hangup", "  Seq: 0", "  @type: ami", "  @server: asterisk1"} <= set(first)


async def test_from_an_entry_id_only_what_came_after(redis_url: str, prefix: str, bus: Bus) -> None:
    first = await bus.publish("events", {"Event": "A"}, type="ami")
    second = await bus.publish("events", {"Event": "B"}, type="ami")
    done = await pbx(redis_url, prefix, "tail", "events", "--from", first, "--count", "1")
    assert done.stdout.splitlines()[0] == second


async def test_brief_is_one_line_with_the_headers_that_matter(redis_url: str, prefix: str, bus: Bus) -> None:
    fields = {"Event": "DialEnd", "Channel": "PJSIP/201-1", "DialStatus": "ANSWER", "Uniqueid": "1.2"}
    entry_id = await bus.publish("events", fields, type="ami")
    done = await pbx(redis_url, prefix, "tail", "events", "--from", "0", "--count", "1", "--brief")
    assert done.stdout == f"{entry_id} ami Event=DialEnd Channel=PJSIP/201-1 DialStatus=ANSWER\n"


async def interrupted(redis_url: str, prefix: str, bus: Bus, after_entries: int) -> tuple[int, str, str]:
    """Start `pbx tail events`, feed it until it has printed `after_entries` entries, then Ctrl-C."""
    proc = start_pbx(redis_url, prefix, "tail", "events", "--brief")
    assert proc.stdout is not None
    seen = 0
    reader = asyncio.create_task(asyncio.to_thread(proc.stdout.readline))
    while seen < after_entries:
        await bus.publish("events", {"Event": "Newstate"}, type="ami")
        done, _ = await asyncio.wait({reader}, timeout=0.05)
        if done:
            assert reader.result(), "pbx tail ended by itself"
            seen += 1
            reader = asyncio.create_task(asyncio.to_thread(proc.stdout.readline))
    # Entries keep coming while it stops: the interrupt lands in a read, a print or between them.
    feeding = asyncio.create_task(feed(bus))
    proc.send_signal(signal.SIGINT)
    try:
        out, err = await asyncio.to_thread(proc.communicate, timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("pbx tail did not stop on Ctrl-C") from None
    finally:
        feeding.cancel()
    return proc.returncode, out, err


async def feed(bus: Bus) -> None:
    while True:
        await bus.publish("events", {"Event": "Newstate"}, type="ami")
        await asyncio.sleep(0.002)


async def test_ctrl_c_while_entries_flow_exits_0_without_a_traceback(
    redis_url: str, prefix: str, bus: Bus
) -> None:
    for after in (1, 2, 5, 1, 3, 8):
        code, _, err = await interrupted(redis_url, prefix, bus, after)
        assert (code, err) == (0, ""), err


def loading_the_bus(pid: int) -> bool:
    """hiredis is mapped: the process is inside `pbx`'s own code, importing the bus library (a Ctrl-C
    before, while the interpreter itself starts, ends any Python program with a traceback)."""
    return "hiredis" in Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/<pid>/maps (Linux)")
async def test_ctrl_c_while_it_starts_exits_0_without_a_traceback(redis_url: str, prefix: str) -> None:
    proc = start_pbx(redis_url, prefix, "tail", "events")
    for _ in range(60_000):
        if proc.poll() is not None or loading_the_bus(proc.pid):
            break
        await asyncio.sleep(0.001)
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.to_thread(proc.communicate, timeout=60)
    assert (proc.returncode, out, err) == (0, "", "")


async def test_ctrl_c_while_waiting_for_the_first_entry(redis_url: str, prefix: str, bus: Bus) -> None:
    proc = start_pbx(redis_url, prefix, "tail", "events")

    # Wait until it is connected and blocked in its read (a client of Redis in XREAD), then interrupt.
    async def blocked() -> bool:
        clients = await bus.redis.execute_command("CLIENT", "LIST")
        return "cmd=xread" in str(clients)

    for _ in range(1200):
        if await blocked():
            break
        await asyncio.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.to_thread(proc.communicate, timeout=60)
    assert (proc.returncode, out, err) == (0, "", "")

"""`pbx streams`: every stream of the server with its length, and each consumer group's pending and lag."""

from __future__ import annotations

from services.bus import Bus

from .conftest import pbx


async def test_no_streams_says_so(redis_url: str, prefix: str) -> None:
    done = await pbx(redis_url, prefix, "streams")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"no streams under {prefix}:asterisk1:"


async def test_each_stream_with_its_length_and_groups(redis_url: str, prefix: str, bus: Bus) -> None:
    for n in range(5):
        await bus.publish("events", {"Event": "Newchannel", "Seq": str(n)}, type="ami")
    await bus.publish("dead", {"x": "1"}, type="dead")
    events = bus.key("events")
    await bus.redis.xgroup_create(events, "odoo_bridge", id="0")
    # The group has been handed two entries and acked none: 2 pending, 3 not yet delivered.
    await bus.redis.xreadgroup("odoo_bridge", "c1", {events: ">"}, count=2)

    done = await pbx(redis_url, prefix, "streams")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines if not line.startswith(" ")] == ["dead", "events"]
    assert "length=5" in next(line for line in lines if line.startswith("events"))
    assert "length=1" in next(line for line in lines if line.startswith("dead"))
    group = next(line.split() for line in lines if line.strip().startswith("group"))
    assert group[:2] == ["group", "odoo_bridge"]
    assert {"pending=2", "lag=3", "consumers=1"} <= set(group)


async def test_another_servers_streams_are_not_shown(redis_url: str, prefix: str, bus: Bus) -> None:
    await bus.publish("events", {"Event": "X"}, type="ami")
    other = Bus(bus.settings.model_copy(update={"agent_server": "asterisk2"}))
    await other.publish("security", {"Event": "Y"}, type="ami")
    await other.close()
    done = await pbx(redis_url, prefix, "streams")
    assert [line.split()[0] for line in done.stdout.splitlines()] == ["events"]

from __future__ import annotations

from services.bus import encode
from tests.bus.helpers import make_bus


async def test_streams_are_trimmed_to_their_configured_length(redis_url: str, prefix: str) -> None:
    bus = make_bus(redis_url, prefix, bus_maxlen=100_000, bus_maxlen_streams="events=500")
    batch = [encode({"Event": "Test", "N": i}, type="event") for i in range(5000)]
    await bus.publish_fields("events", batch)
    await bus.publish_fields("security", batch[:1000])
    events = await bus.redis.xlen(bus.key("events"))
    # Approximate trimming removes whole macro nodes: a little over the limit, far under what was written.
    assert 500 <= events < 1000
    assert await bus.redis.xlen(bus.key("security")) == 1000
    await bus.close()


async def test_publish_keeps_order_and_payload(redis_url: str, prefix: str) -> None:
    bus = make_bus(redis_url, prefix)
    first = await bus.publish("to_odoo", {"address": "203.0.113.7"}, type="guard.ban", payload={"n": [1, 2]})
    second = await bus.publish("to_odoo", None, type="conf.result", id="req-1")
    rows = await bus.redis.xrange(bus.key("to_odoo"))
    assert [r[0] for r in rows] == [first, second]
    assert rows[0][1]["@json"] == '{"n":[1,2]}'
    assert rows[0][1]["@server"] == "asterisk1" and rows[0][1]["@at"].endswith("Z")
    assert rows[1][1]["@id"] == "req-1"
    await bus.close()

from __future__ import annotations

import asyncio

import pytest

from services.bus import Consumer, Entry, Requester, RequestTimeout, expired
from tests.bus.helpers import make_bus


async def test_a_request_gets_its_own_reply(redis_url: str, prefix: str) -> None:
    bus = make_bus(redis_url, prefix)

    async def answer(batch: list[Entry]) -> None:
        for request in batch:
            await bus.reply(request, {"Ping": "Pong", "Echo": request.get("Action")})

    stop = asyncio.Event()
    responder = asyncio.create_task(Consumer(bus, "gw", {"actions": answer}, block_ms=50).run(stop))
    requester = Requester(bus, "tester")
    replies = await asyncio.gather(
        *(requester.request("actions", {"Action": f"A{i}"}, uid=7) for i in range(5))
    )
    assert [r.get("Echo") for r in replies] == [f"A{i}" for i in range(5)]
    assert all(r.meta["status"] == "ok" and r.meta["uid"] == "7" for r in replies)
    assert await bus.redis.ttl(bus.key("replies:tester")) > 0
    stop.set()
    await responder
    await requester.close()
    await bus.close()


async def test_no_answer_raises_a_timeout_naming_the_request(redis_url: str, prefix: str) -> None:
    bus = make_bus(redis_url, prefix)
    requester = Requester(bus, "lonely")
    with pytest.raises(RequestTimeout, match=r"no reply to action on actions within 0\.2 s"):
        await requester.request("actions", {"Action": "Ping"}, timeout=0.2)
    ((_, request),) = await bus.redis.xrange(bus.key("actions"))
    assert request["@reply_to"] == "replies:lonely" and request["@deadline"].endswith("Z")
    await asyncio.sleep(0.3)
    assert expired(Entry.from_fields("actions", "1-0", request))
    await requester.close()
    await bus.close()


async def test_a_reply_to_a_shared_stream_is_written_and_never_expires(redis_url: str, prefix: str) -> None:
    """Click-to-call asks for its answer on `to_odoo`, the bridge's stream, not on a replies stream."""
    bus = make_bus(redis_url, prefix)
    request = Entry.from_fields(
        "actions",
        "1-0",
        {"@type": "action", "@id": "c2c-1", "@reply_to": "to_odoo", "@uid": "2", "Action": "Originate"},
    )
    entry_id = await bus.reply(request, {"Response": "Success"})
    ((got_id, reply),) = await bus.redis.xrange(bus.key("to_odoo"))
    assert got_id == entry_id
    assert (reply["@type"], reply["@id"], reply["@uid"], reply["@status"]) == ("reply", "c2c-1", "2", "ok")
    assert reply["@request_type"] == "action" and reply["Response"] == "Success"
    assert await bus.redis.ttl(bus.key("to_odoo")) == -1  # a shared stream keeps its entries
    await bus.close()

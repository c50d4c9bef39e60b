"""The bridge's recordings route: chunks, then their summary, a few per call; Odoo's verdict back to the
service on commands:recordings, for a summary stored, refused, or dead-lettered."""

from __future__ import annotations

import base64
import hashlib
import random
from typing import Any

from peers.odoo_peer import OdooPeer
from peers.odoo_peer.server import OdooError
from services.bus import Bus, encode, keys
from tests.bus.helpers import eventually

from .conftest import Running, bridge_settings, running_bridge, start_bridge
from .test_parallel_lanes import MAPPED, interleaved_calls

CHUNK = 1000


async def publish_recording(bus: Bus, data: bytes, key: str, **headers: str) -> None:
    sha = hashlib.sha256(data).hexdigest()
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
    for i, chunk in enumerate(chunks):
        fields = {"recording": key, "sha256": sha, "index": str(i), "data": base64.b64encode(chunk).decode()}
        await bus.publish(keys.RECORDINGS, fields, type="recording.chunk", id=f"{key}:{sha}:{i}")
    summary = {
        "Uniqueid": "1796100009.1",
        "Linkedid": "1796100009.1",
        "status": "ok",
        "file": "rec-1796100009.1.wav",
        "name": "rec-1796100009.1.mp3",
        "mimetype": "audio/mpeg",
        "sha256": sha,
        "size": str(len(data)),
        "chunks": str(len(chunks)),
        **headers,
    }
    await bus.publish(
        keys.RECORDINGS, summary, type="recording", id=key, reply_to=keys.commands("recordings")
    )


async def verdicts(bus: Bus) -> list[dict[str, str]]:
    return [f for _, f in await bus.redis.xrange(bus.key(keys.commands("recordings")))]


async def test_a_summary_waits_for_its_chunks_and_its_verdict_says_stored(running: Running) -> None:
    peer, real = running.peer, running.peer.recordings.on_chunks
    calls = []

    def flaky(items: list[dict[str, Any]]) -> list[dict[str, str]]:
        calls.append(len(items))
        if len(calls) == 3:  # the call of the last chunks fails as a whole (their summary is in that batch)
            raise OdooError("odoo.exceptions.UserError", "the chunk table is locked")
        return real(items)

    peer.recordings.on_chunks = flaky  # type: ignore[method-assign]
    data, key = bytes(range(256)) * 40, "a" * 64
    await publish_recording(running.bus, data, key)
    await eventually(lambda: _verdicts(running.bus, 1))
    (verdict,) = await verdicts(running.bus)
    assert verdict["@type"] == "recording.verdict" and verdict["@id"] == key and verdict["@status"] == "ok"
    assert peer.recordings.recordings[key].data == data
    assert max(calls) <= 4  # ODOO_RECORDINGS_BATCH entries per call
    assert peer.recordings.summary_receipts[key] == 1  # never before all its chunks were in
    assert await running.bus.redis.xlen(running.bus.key("dead")) == 0


async def _verdicts(bus: Bus, n: int) -> bool:
    return len(await verdicts(bus)) >= n


async def test_a_summary_odoo_refuses_gets_one_error_verdict_with_odoos_reason(running: Running) -> None:
    running.peer.recordings.reject = lambda item: "no call 1796100009.1 on this server"
    await publish_recording(running.bus, b"x" * 2500, "b" * 64)
    await eventually(lambda: _verdicts(running.bus, 1))
    await eventually(lambda: _dead(running.bus, 1))
    (verdict,) = await verdicts(running.bus)
    assert verdict["@status"] == "error" and "no call 1796100009.1" in verdict["@error"]


async def _dead(bus: Bus, n: int) -> bool:
    return await bus.redis.xlen(bus.key("dead")) >= n


async def test_a_summary_refused_call_after_call_is_dead_lettered_with_an_error_verdict(
    redis_url: str, prefix: str, running: Running
) -> None:
    await running.halt()
    peer = running.peer

    def broken(items: list[dict[str, Any]]) -> list[dict[str, str]]:
        raise OdooError("builtins.AttributeError", "no bridge_on_recordings: the module is not upgraded")

    peer.recordings.on_recordings = broken  # type: ignore[method-assign]
    bridge = await start_bridge(bridge_settings(redis_url, prefix, peer, bus_max_deliveries=2), peer)
    try:
        await publish_recording(bridge.bus, b"y" * 1500, "c" * 64)
        await eventually(lambda: _verdicts(bridge.bus, 1))
        (verdict,) = await verdicts(bridge.bus)
        assert verdict["@status"] == "error" and "not upgraded" in verdict["@error"]
        dead = [f for _, f in await bridge.bus.redis.xrange(bridge.bus.key("dead"))]
        assert [d["@type"] for d in dead] == ["recording"]
    finally:
        await bridge.halt()


async def test_recordings_and_events_share_the_pool_of_odoo_concurrency_sessions(
    redis_url: str, prefix: str
) -> None:
    odoo = await OdooPeer(latency=0.03).start()
    async with running_bridge(
        bridge_settings(redis_url, prefix, odoo, odoo_concurrency=2, odoo_batch=10), odoo, stop_peer=True
    ) as run:
        events = interleaved_calls(random.Random(7), rounds=3)
        fields = [encode(p, type="event", server="asterisk1", id=f"s:{n}") for n, p in enumerate(events)]
        await run.bus.publish_fields(keys.EVENTS, fields)
        keys_ = [f"{n:x}" * 64 for n in range(1, 6)]
        for n, key in enumerate(keys_):
            await publish_recording(run.bus, bytes([n]) * 5000, key)
        wanted = [f for f in fields if f.get("Event") in MAPPED]

        async def all_there() -> bool:
            stored = len(odoo.recordings.recordings) == len(keys_)
            return stored and len(odoo.items("asterisk_plus.call")) >= len(wanted)

        await eventually(all_there, timeout=60)
        # The recordings' consumer logged in no session of its own and never made a third call in flight.
        assert odoo.logins == 2
        assert odoo.max_in_flight == 2
        assert len(await verdicts(run.bus)) == len(keys_)

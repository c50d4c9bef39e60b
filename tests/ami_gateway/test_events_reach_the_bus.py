from __future__ import annotations

import asyncio

from peers.ami_peer import attack, demo_calls, good_client
from tests.ami_gateway.conftest import Running
from tests.bus.helpers import eventually


def _tagged(entries: list[tuple[str, dict[str, str]]]) -> list[dict[str, str]]:
    return [fields for _, fields in entries if "PeerSeq" in fields]


async def test_every_event_arrives_complete_and_in_order(running: Running) -> None:
    sent = await running.peer.replay_calls(demo_calls() * 20)
    total = len(running.peer.sent_events)

    async def all_there() -> bool:
        return len(_tagged(await running.stream("events"))) == total

    await eventually(all_there)
    stored = _tagged(await running.stream("events"))
    assert sent > 400
    for (_, pairs), fields in zip(running.peer.sent_events, stored, strict=True):
        headers = {k: v for k, v in fields.items() if not k.startswith("@")}
        assert list(headers.items()) == pairs  # every header, same names, same order
        assert fields["@type"] == "event" and fields["@server"] == "asterisk1" and fields["@at"].endswith("Z")
    ids = [fields["@id"] for fields in stored]
    assert len(set(ids)) == len(ids)  # the dedupe key is unique


async def test_security_events_also_go_to_the_security_stream(running: Running) -> None:
    await running.peer.replay(attack(["203.0.113.7", "2001:db8::66"], attempts=5))
    await running.peer.replay(good_client("198.51.100.20", times=1))
    security_sent = [p for _, p in running.peer.sent_events if ("Privilege", "security,all") in p]

    async def all_there() -> bool:
        return len(_tagged(await running.stream("security"))) == len(security_sent)

    await eventually(all_there)
    stored = _tagged(await running.stream("security"))
    assert [f["RemoteAddress"] for f in stored] == [dict(p)["RemoteAddress"] for p in security_sent]
    assert "IPV6/UDP/[2001:db8::66]/5061" in {f["RemoteAddress"] for f in stored}
    # Call events never reach the security stream.
    await running.peer.replay_calls(demo_calls()[:1])
    await eventually(lambda: _count_events(running, len(running.peer.sent_events)))
    assert len(_tagged(await running.stream("security"))) == len(security_sent)


async def _count_events(running: Running, n: int) -> bool:
    return len(_tagged(await running.stream("events"))) == n


async def test_repeated_headers_survive_from_ami_to_the_stream(running: Running) -> None:
    running.peer.emit(
        [
            ("Event", "VarSet"),
            ("Privilege", "dialplan,all"),
            ("ChanVariable", "A=1"),
            ("ChanVariable", "B=2"),
            ("ChanVariable", "C=3"),
        ]
    )
    await running.peer.drain()
    await eventually(lambda: _count_events(running, len(running.peer.sent_events)))
    (fields,) = [f for f in _tagged(await running.stream("events")) if f["Event"] == "VarSet"]
    assert (fields["ChanVariable"], fields["ChanVariable#2"], fields["ChanVariable#3"]) == (
        "A=1",
        "B=2",
        "C=3",
    )


async def test_the_status_hash_shows_the_connection(running: Running) -> None:
    key = running.bus.key("status:ami_gateway")

    async def connected() -> bool:
        status = await running.bus.redis.hgetall(key)
        return status.get("ami_connected") == "1" and status.get("asterisk_version") == "22.10.1"

    await eventually(connected)
    running.peer.emit([("Event", "Newexten"), ("Privilege", "dialplan,all")])
    await running.peer.drain()

    async def last_event_seen() -> bool:
        return bool((await running.bus.redis.hgetall(key)).get("last_event_at"))

    await eventually(last_event_seen)

    # Read again until settled: on a loaded machine a Ping can time out and the gateway reconnects meanwhile.
    async def shown() -> bool:
        status = await running.bus.redis.hgetall(key)
        return (status.get("ready"), status.get("ami_version"), status.get("fully_booted")) == (
            "1",
            "11.0.0",
            "1",
        )

    await eventually(shown)


async def test_a_gateway_stopped_just_after_asterisk_went_away_says_stopped(running: Running) -> None:
    # The lost connection starts a status write ("AMI closed by Asterisk") from a callback; the stop waits
    # for it, so the last word in the status hash is the stop's and no write is left behind.
    running.peer.drop_connections()
    await asyncio.sleep(0)
    running.stop.set()
    await asyncio.wait_for(running.task, 30)
    status = await running.bus.redis.hgetall(running.bus.key("status:ami_gateway"))
    assert status["reason"] == "stopped" and status["ready"] == "0" and status["ami_connected"] == "0"
    assert len(running.gateway.tasks) == 0

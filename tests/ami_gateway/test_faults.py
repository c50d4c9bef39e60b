from __future__ import annotations

import asyncio
import logging

import pytest

from peers.ami_peer import AmiPeer, demo_calls
from services.bus import Requester
from tests.ami_gateway.conftest import Running, gateway_settings, start_gateway, wait_logged_in
from tests.bus.helpers import eventually


def _tagged(entries: list[tuple[str, dict[str, str]]]) -> list[dict[str, str]]:
    return [fields for _, fields in entries if "PeerSeq" in fields]


async def test_an_action_sent_while_ami_is_down_gets_an_error_reply(running: Running) -> None:
    await running.peer.stop_listening()
    running.peer.drop_connections()
    await eventually(lambda: _ami_down(running))
    requester = Requester(running.bus, "tests")
    reply = await requester.request("actions", {"Action": "Ping"}, timeout=5)
    await requester.close()
    assert reply.meta["status"] == "error"
    assert (
        reply.meta["error"].startswith("AMI not connected (") and "Ping was not sent" in reply.meta["error"]
    )


async def _ami_down(running: Running) -> bool:
    return (await running.bus.redis.hget(running.bus.key("status:ami_gateway"), "ami_connected")) == "0"


async def test_a_dropped_ami_connection_reconnects_and_loses_nothing_received(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await running.peer.replay_calls(demo_calls())
    before = len(running.peer.sent_events)
    await eventually(lambda: _has_tagged(running, before))
    running.peer.drop_connections()
    await wait_logged_in(running.peer)
    await running.peer.replay_calls(demo_calls())
    total = len(running.peer.sent_events)
    await eventually(lambda: _has_tagged(running, total))
    stored = await running.stream("events")
    seqs = [int(f["PeerSeq"]) for f in _tagged(stored)]
    assert seqs == sorted(seqs) and len(seqs) == total
    gaps = [f for _, f in stored if f.get("@type") == "gap"]
    assert len(gaps) == 1 and gaps[0]["@from"] < gaps[0]["@to"]
    messages = [r.getMessage() for r in caplog.records if r.name == "ami_gateway"]
    assert messages.count("AMI disconnected") == 1 and messages.count("AMI connected") == 1


async def _has_tagged(running: Running, n: int) -> bool:
    return len(_tagged(await running.stream("events"))) >= n


async def test_malformed_and_oversized_frames_are_skipped_with_a_log_line(
    redis_url: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    peer = await AmiPeer(tag_events=True).start()
    run = await start_gateway(gateway_settings(redis_url, prefix, peer.port, ami_max_frame_bytes=4096), peer)
    try:
        await wait_logged_in(peer)
        peer.send_raw(b"this line has no colon\r\nEvent: Odd\r\n\r\n")
        peer.send_raw(b"Event: Huge\r\nValue: " + b"x" * 100_000 + b"\r\n\r\n")
        peer.emit([("Event", "AfterTheJunk"), ("Privilege", "call,all")])
        await peer.drain()
        await eventually(lambda: _event_named(run, "AfterTheJunk"))
        names = [f.get("Event") for _, f in await run.stream("events")]
        assert "Huge" not in names and "Odd" in names
        warnings = [r for r in caplog.records if "could not be used" in r.getMessage()]
        assert warnings and any(getattr(r, "fields", {}).get("oversized") == 1 for r in warnings)
        assert any(getattr(r, "fields", {}).get("malformed") == 1 for r in warnings)
    finally:
        await run.halt()
        await peer.stop()


async def _event_named(run: Running, name: str) -> bool:
    return any(f.get("Event") == name for _, f in await run.stream("events"))


async def test_a_wrong_secret_is_logged_once_and_the_gateway_keeps_trying(
    redis_url: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    peer = await AmiPeer(users={"admin": "other"}, login_failure_delay=0.01).start()
    run = await start_gateway(gateway_settings(redis_url, prefix, peer.port), peer)
    try:
        await eventually(lambda: _login_failures(peer, 3))
        failed = [r for r in caplog.records if r.getMessage() == "AMI login failed"]
        assert len(failed) == 1  # logged once per state change, not once per attempt
        assert failed[0].fields["reason"] == "Authentication failed"  # type: ignore[attr-defined]
        assert "AMI_SECRET" in failed[0].fields["hint"]  # type: ignore[attr-defined]
        peer.users["admin"] = "admin"  # the admin fixes manager.conf
        await wait_logged_in(peer)
        await eventually(lambda: _ami_up(run))
    finally:
        await run.halt()
        await peer.stop()


async def _login_failures(peer: AmiPeer, n: int) -> bool:
    return sum(1 for a in peer.actions_received if ("Action", "Login") in a) >= n


async def _ami_up(run: Running) -> bool:
    return (await run.bus.redis.hget(run.bus.key("status:ami_gateway"), "ami_connected")) == "1"


async def test_the_gateway_recovers_from_a_redis_restart_keeping_what_it_received(own_redis) -> None:  # type: ignore[no-untyped-def]
    peer = await AmiPeer(tag_events=True).start()
    run = await start_gateway(gateway_settings(own_redis.url, "restart", peer.port), peer)
    try:
        await wait_logged_in(peer)
        await peer.replay_calls(demo_calls())
        first = len(peer.sent_events)
        await eventually(lambda: _has_tagged(run, first))
        own_redis.stop()
        await peer.replay_calls(demo_calls())  # received while Redis is away: held, not lost
        await asyncio.sleep(0.5)
        own_redis.start()
        total = len(peer.sent_events)
        await eventually(lambda: _has_tagged(run, total), timeout=30)
        seqs = [int(f["PeerSeq"]) for f in _tagged(await run.stream("events"))]
        assert seqs == list(range(1, total + 1))
    finally:
        await run.halt()
        await peer.stop()


async def test_a_hung_asterisk_is_noticed_by_the_keepalive_and_reconnected(
    redis_url: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    peer = await AmiPeer().start()
    settings = gateway_settings(redis_url, prefix, peer.port, ami_ping_interval_s=0.2, ami_ping_timeout_s=0.5)
    run = await start_gateway(settings, peer)
    try:
        await wait_logged_in(peer)
        peer.silent = True
        await eventually(lambda: _logged(caplog, "AMI did not answer Ping, reconnecting"))
        peer.silent = False
        await eventually(lambda: _logins(peer, 2))
        await eventually(lambda: _ami_up(run))
    finally:
        await run.halt()
        await peer.stop()


async def _logged(caplog: pytest.LogCaptureFixture, message: str) -> bool:
    return any(r.getMessage() == message for r in caplog.records)


async def _logins(peer: AmiPeer, n: int) -> bool:
    return sum(1 for a in peer.actions_received if ("Action", "Login") in a) >= n


async def test_a_restarted_gateway_marks_a_gap_from_the_last_event_its_predecessor_published(
    running: Running,
) -> None:
    await running.peer.replay_calls(demo_calls())
    total = len(running.peer.sent_events)
    await eventually(lambda: _has_tagged(running, total))
    last_at = (await running.stream("events"))[-1][1]["@at"]
    running.stop.set()
    await asyncio.wait_for(running.task, 30)

    await running.peer.replay_calls(demo_calls())  # nobody listening: lost at the source
    lost = len(running.peer.sent_events) - total
    assert lost > 0
    settings = gateway_settings(
        running.bus.settings.redis_url, running.bus.settings.pbx_prefix, running.peer.port
    )
    second = await start_gateway(settings, running.peer)
    try:
        await wait_logged_in(running.peer)
        await running.peer.replay_calls(demo_calls())
        await eventually(lambda: _has_tagged(running, len(running.peer.sent_events) - lost))
        stored = await running.stream("events")
        gaps = [(i, f) for i, (_, f) in enumerate(stored) if f.get("@type") == "gap"]
        assert len(gaps) == 1
        position, gap = gaps[0]
        assert gap["@from"] == last_at and gap["@from"] < gap["@to"]
        assert gap["@reason"].startswith("gateway (re)started")
        before = [int(f["PeerSeq"]) for f in _tagged(stored[:position])]
        after = [int(f["PeerSeq"]) for f in _tagged(stored[position:])]
        assert after[0] - before[-1] == lost + 1  # exactly the events nobody received lie in the gap
    finally:
        await second.halt()

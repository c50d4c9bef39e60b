"""The AMI `MixMonitor` action (what Odoo's recording policy sends) answered as Asterisk 22.10.1 answers it:
a bare `Response: Success` (no Message), then VarSet(MIXMONITOR_FILENAME) with the file's full name and
MixMonitorStart, both with the channel's snapshot; an unknown channel is `No such channel`."""

from __future__ import annotations

import asyncio

from peers.ami_peer import AmiPeer
from peers.ami_peer.flows.parts import UP, Leg
from services.ami.codec import FrameParser, encode

from .test_peer_speaks_ami import raw_session, read_frames

Frames = list[list[tuple[str, str]]]


async def logged_in(peer: AmiPeer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, FrameParser]:
    reader, writer, parser = await raw_session(peer)
    writer.write(encode([("Action", "Login"), ("Username", "admin"), ("Secret", "admin")]))
    await read_frames(reader, parser, 3)  # the response, FullyBooted, SuccessfulAuth
    return reader, writer, parser


def a_channel(peer: AmiPeer) -> Leg:
    leg = Leg("PJSIP/trunk-00000001", "1796098674.5", "1796098674.5", "from-trunk", "100", "0470123456")
    leg.state, leg.priority = UP, 3
    peer.channels[leg.channel] = leg.snapshot()
    return leg


async def mixmonitor(peer: AmiPeer, headers: list[tuple[str, str]], n: int) -> Frames:
    reader, writer, parser = await logged_in(peer)
    writer.write(encode([("Action", "MixMonitor"), ("ActionID", "rec-1"), *headers]))
    frames = await read_frames(reader, parser, n)
    writer.close()
    return frames


async def test_a_channel_named_by_its_uniqueid_is_recorded_and_the_events_follow_the_bare_success() -> None:
    peer = await AmiPeer().start()
    leg = a_channel(peer)
    file = "/var/spool/asterisk/monitor/rec-1796098674.5.wav"
    reply, varset, start = await mixmonitor(peer, [("Channel", leg.uniqueid), ("File", file)], 3)
    assert reply == [("Response", "Success"), ("ActionID", "rec-1")]
    assert varset == [
        ("Event", "VarSet"),
        ("Privilege", "dialplan,all"),
        *leg.snapshot(),
        ("Variable", "MIXMONITOR_FILENAME"),
        ("Value", file),
    ]
    assert start == [("Event", "MixMonitorStart"), ("Privilege", "call,all"), *leg.snapshot()]
    await peer.stop()


async def test_a_relative_file_name_is_put_in_the_monitor_directory() -> None:
    peer = await AmiPeer().start()
    leg = a_channel(peer)
    _, varset, _ = await mixmonitor(peer, [("Channel", leg.channel), ("File", "odoo/rec-1.wav")], 3)
    assert dict(varset)["Value"] == "/var/spool/asterisk/monitor/odoo/rec-1.wav"
    await peer.stop()


async def test_no_channel_an_unknown_channel_or_no_file_is_refused_and_nothing_is_recorded() -> None:
    peer = await AmiPeer().start()  # it keeps what it sent (sent_events)
    leg = a_channel(peer)
    cases = [
        ([("File", "a.wav")], "No channel specified"),
        ([("Channel", "PJSIP/gone-00000009"), ("File", "a.wav")], "No such channel"),
        ([("Channel", leg.channel)], "Could not start monitoring channel"),
    ]
    for headers, message in cases:
        (reply,) = await mixmonitor(peer, headers, 1)
        assert reply == [("Response", "Error"), ("ActionID", "rec-1"), ("Message", message)]
    await asyncio.sleep(0.1)
    sent = {dict(pairs).get("Event") for _, pairs in peer.sent_events}
    assert not sent & {"VarSet", "MixMonitorStart"}
    await peer.stop()

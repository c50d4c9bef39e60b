"""The AMI peer against panoramisk and against a raw socket: it must behave as Asterisk 22 does."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from panoramisk import Manager

from peers.ami_peer import AmiPeer
from peers.ami_peer.cli import matches
from services.ami.codec import FrameParser, encode


async def raw_session(peer: AmiPeer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, FrameParser]:
    reader, writer = await asyncio.open_connection("127.0.0.1", peer.port)
    return reader, writer, FrameParser()


async def read_frames(
    reader: asyncio.StreamReader, parser: FrameParser, n: int
) -> list[list[tuple[str, str]]]:
    frames: list[list[tuple[str, str]]] = []
    while len(frames) < n:
        data = await asyncio.wait_for(reader.read(65536), 5)
        if not data:
            break
        frames += parser.feed(data)
    return frames


async def test_login_sends_fullybooted_and_successfulauth_and_echoes_actionid() -> None:
    peer = await AmiPeer().start()
    reader, writer, parser = await raw_session(peer)
    writer.write(
        encode([("Action", "Login"), ("Username", "admin"), ("Secret", "admin"), ("ActionID", "l-1")])
    )
    frames = await read_frames(reader, parser, 3)
    assert parser.banner == "Asterisk Call Manager/11.0.0"
    assert frames[0] == [("Response", "Success"), ("ActionID", "l-1"), ("Message", "Authentication accepted")]
    assert [dict(f).get("Event") for f in frames[1:3]] == ["FullyBooted", "SuccessfulAuth"]
    writer.write(encode([("Action", "Ping"), ("ActionID", "p-1")]))
    (pong,) = await read_frames(reader, parser, 1)
    assert dict(pong)["Ping"] == "Pong" and dict(pong)["ActionID"] == "p-1"
    writer.close()
    await peer.stop()


async def test_a_wrong_secret_is_refused_the_socket_closed_and_others_told() -> None:
    peer = await AmiPeer(login_failure_delay=0.01).start()
    good_r, good_w, good_p = await raw_session(peer)
    good_w.write(encode([("Action", "Login"), ("Username", "admin"), ("Secret", "admin")]))
    await read_frames(good_r, good_p, 3)
    bad_r, bad_w, bad_p = await raw_session(peer)
    bad_w.write(encode([("Action", "Login"), ("Username", "admin"), ("Secret", "wrong"), ("ActionID", "b")]))
    (refused,) = await read_frames(bad_r, bad_p, 1)
    assert refused == [("Response", "Error"), ("ActionID", "b"), ("Message", "Authentication failed")]
    assert await bad_r.read() == b""  # closed by the server
    (told,) = await read_frames(good_r, good_p, 1)
    assert dict(told)["Event"] == "InvalidPassword" and dict(told)["RemoteAddress"].startswith(
        "IPV4/TCP/127.0.0.1/"
    )
    await peer.stop()


async def test_actions_before_login_and_unknown_actions_are_errors() -> None:
    peer = await AmiPeer().start()
    reader, writer, parser = await raw_session(peer)
    writer.write(encode([("Action", "Ping")]))
    (denied,) = await read_frames(reader, parser, 1)
    assert denied == [("Response", "Error"), ("Message", "Permission denied")]
    writer.write(encode([("Action", "Login"), ("Username", "admin"), ("Secret", "admin"), ("Events", "off")]))
    writer.write(encode([("Action", "Frobnicate")]))
    frames = await read_frames(reader, parser, 2)  # Events: off, so no FullyBooted
    assert frames[1] == [("Response", "Error"), ("Message", "Invalid/unknown command")]
    await peer.stop()


async def test_panoramisk_logs_in_and_reads_command_output_as_asterisk_22_sends_it() -> None:
    peer = await AmiPeer().start()
    manager = Manager(
        host="127.0.0.1",
        port=peer.port,
        username="admin",
        secret="admin",
        ping_delay=1000,
        loop=asyncio.get_running_loop(),
    )
    await manager.connect()
    for _ in range(200):
        if manager.authenticated_future is not None:
            await manager.authenticated_future
            break
        await asyncio.sleep(0.01)
    assert manager.authenticated
    reply = await manager.send_action({"Action": "Command", "Command": "core show version"})
    assert reply.Response == "Success" and reply.Message == "Command output follows"
    assert reply.Output.startswith("Asterisk 22.10.1")
    many = await manager.send_action({"Action": "Command", "Command": "pjsip show endpoints"})
    assert isinstance(many.Output, list) and many.Output[-1] == "Objects found: 2"
    status = await manager.send_action({"Action": "Status"})
    assert status[-1].Event == "StatusComplete" and status[-1].EventList == "Complete"
    manager.close()
    await peer.stop()


def test_cli_completion_matches_asterisks_matchesarray() -> None:
    assert matches("core sh", "sh") == ["show", "show"]
    assert matches("core s", "s")[0] == "s" and {"show", "set", "stop"} <= set(matches("core s", "s")[1:])
    assert matches("core show ", "")[1:] == ["version", "uptime", "channels", "help", "settings"]
    assert matches("nothing", "x") == []


async def test_corestatus_and_event_timestamps_are_in_the_peers_own_clock_and_timezone() -> None:
    # An Asterisk a day ahead, in Tokyo: its startup date is Tokyo's, its events stamped in its clock.
    peer = await AmiPeer(clock_offset=86400.0, timezone="Asia/Tokyo", timestamp_events=True).start()
    reader, writer, parser = await raw_session(peer)
    writer.write(encode([("Action", "Login"), ("Username", "admin"), ("Secret", "admin")]))
    await read_frames(reader, parser, 3)
    writer.write(encode([("Action", "CoreStatus"), ("ActionID", "c-1")]))
    (status,) = await read_frames(reader, parser, 1)
    tokyo = datetime.fromtimestamp(peer._started + 86400.0, ZoneInfo("Asia/Tokyo"))
    assert dict(status)["CoreStartupDate"] == tokyo.strftime("%Y-%m-%d")
    assert dict(status)["CoreStartupTime"] == tokyo.strftime("%H:%M:%S")
    before = time.time()
    peer.emit([("Event", "Reload"), ("Privilege", "system,all"), ("Module", "All")])
    (event,) = await read_frames(reader, parser, 1)
    assert float(dict(event)["Timestamp"]) >= before + 86400.0
    writer.close()
    await peer.stop()

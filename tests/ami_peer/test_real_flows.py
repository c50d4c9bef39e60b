"""The peer replays the call flows a real Asterisk 22.10.1 sent (event order and headers as observed)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from peers.ami_peer import AmiPeer
from peers.ami_peer.flows import FLOWS
from peers.local_redis import free_port
from services.ami.codec import FrameParser, Pairs, encode
from tests.ami_peer.test_peer_speaks_ami import raw_session, read_frames

ROOT = Path(__file__).resolve().parents[2]

# The orders the real Asterisk showed, as written in the observations.
OBSERVED = {
    "answered-no-dial": (
        "Newchannel > Newstate > DeviceStateChange > SoftHangupRequest > Hangup > Cdr > DeviceStateChange"
    ),
    "answered-no-dial-cdr-first": (
        "Newchannel > Newstate > DeviceStateChange > SoftHangupRequest > Cdr > Hangup > DeviceStateChange"
    ),
    "dial-unregistered": "Newchannel > SoftHangupRequest > Hangup",
    "originate-unregistered": "OriginateResponse",
    "local-chain": (
        "Newchannel > Newchannel > NewCallerid > NewConnectedLine > NewCallerid > NewConnectedLine > "
        "LocalBridge > DialBegin > Newstate > Newstate > DialEnd > DeviceStateChange > OriginateResponse "
        "> DeviceStateChange > Cdr > SoftHangupRequest > HangupRequest > Hangup > SoftHangupRequest > Cdr "
        "> Hangup > DeviceStateChange > DeviceStateChange"
    ),
    "queue": (
        "Newchannel > VarSet > Newexten > Newstate > DeviceStateChange > Newexten > VarSet > VarSet > "
        "VarSet > VarSet > VarSet > VarSet > DeviceStateChange > QueueCallerJoin > Newchannel > "
        "Newchannel > Newexten > NewCallerid > VarSet > VarSet > NewCallerid > NewConnectedLine > "
        "LocalBridge > AgentCalled > Newexten > DialBegin > Newstate > QueueMemberStatus > "
        "DeviceStateChange > DeviceStateChange > Newstate > Newexten > NewConnectedLine > DialEnd > "
        "DeviceStateChange > DeviceStateChange > QueueCallerLeave > VarSet > VarSet > VarSet > "
        "AgentConnect > BridgeCreate > BridgeEnter > BridgeEnter > VarSet > VarSet > VarSet > Newexten > "
        "Newexten > SoftHangupRequest > HangupRequest > VarSet > VarSet > AgentComplete > Hangup > VarSet "
        "> BridgeLeave > BridgeLeave > VarSet > BridgeDestroy > VarSet > VarSet > VarSet > "
        "SoftHangupRequest > VarSet > VarSet > VarSet > VarSet > Cdr > VarSet > DeviceStateChange > "
        "Hangup > QueueMemberStatus > DeviceStateChange > Hangup > DeviceStateChange > Cdr"
    ),
}
CHANNEL_HEADERS = [
    "Channel",
    "ChannelState",
    "ChannelStateDesc",
    "CallerIDNum",
    "CallerIDName",
    "ConnectedLineNum",
    "ConnectedLineName",
    "Language",
    "AccountCode",
    "Context",
    "Exten",
    "Priority",
    "Uniqueid",
    "Linkedid",
]
CDR_HEADERS = [
    "AccountCode",
    "Source",
    "Destination",
    "DestinationContext",
    "CallerID",
    "Channel",
    "DestinationChannel",
    "LastApplication",
    "LastData",
    "StartTime",
    "AnswerTime",
    "EndTime",
    "Duration",
    "BillableSeconds",
    "Disposition",
    "AMAFlags",
    "UniqueID",
    "UserField",
]


def names(frames: list[Pairs]) -> str:
    return " > ".join(dict(f)["Event"] for f in frames)


async def logged_in(peer: AmiPeer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, FrameParser]:
    reader, writer, parser = await raw_session(peer)
    writer.write(encode([("Action", "Login"), ("Username", "admin"), ("Secret", "admin")]))
    await read_frames(reader, parser, 3)  # the response, FullyBooted, SuccessfulAuth
    return reader, writer, parser


@pytest.mark.parametrize("name", sorted(OBSERVED))
async def test_each_flow_goes_on_the_wire_in_the_observed_order(name: str) -> None:
    peer = await AmiPeer().start()
    reader, writer, parser = await logged_in(peer)
    n = await peer.replay(FLOWS[name]())
    frames = await read_frames(reader, parser, n)
    assert names(frames) == OBSERVED[name]
    for frame in frames:
        assert frame[0][0] == "Event" and frame[1][0] == "Privilege"  # Asterisk's first two lines
        headers = [k for k, _ in frame]
        for prefix in ("", "Dest", "LocalOne", "LocalTwo"):
            if prefix + "Linkedid" in headers:  # a channel snapshot, whole and in Asterisk's order
                at = headers.index(prefix + "Channel")
                assert headers[at : at + 14] == [prefix + h for h in CHANNEL_HEADERS]
        if dict(frame)["Event"] == "Cdr":
            assert headers[2:] == CDR_HEADERS and dict(frame)["Privilege"] == "cdr,all"
    writer.close()
    await peer.stop()


def by_event(events: list[Pairs], name: str) -> list[dict[str, str]]:
    return [dict(e) for e in events if dict(e).get("Event") == name]


def test_answered_by_the_dialplan_has_no_dial_and_a_cdr_without_linkedid() -> None:
    events = FLOWS["answered-no-dial"]()
    assert not by_event(events, "DialBegin") and not by_event(events, "DialEnd")
    (up,) = by_event(events, "Newstate")
    (hangup,) = by_event(events, "Hangup")
    (cdr,) = by_event(events, "Cdr")
    assert (up["ChannelState"], up["ChannelStateDesc"], up["CallerIDNum"]) == ("6", "Up", "0470123456")
    assert up["Context"] == "from-trunk" and up["Uniqueid"] == up["Linkedid"]
    assert (hangup["ChannelStateDesc"], hangup["Cause"], hangup["Cause-txt"]) == (
        "Up",
        "16",
        "Normal Clearing",
    )
    assert cdr["Disposition"] == "ANSWERED" and cdr["LastApplication"] == "Hangup"
    assert "Linkedid" not in cdr and cdr["UniqueID"] == up["Uniqueid"]
    assert cdr["CallerID"] == '"Customer" <0470123456>' and cdr["Duration"] == cdr["BillableSeconds"] == "3"


def test_unanswered_inbound_call_to_an_unregistered_phone_makes_no_cdr() -> None:
    events = FLOWS["dial-unregistered"]()
    assert not by_event(events, "Cdr") and not by_event(events, "Newstate")
    (hangup,) = by_event(events, "Hangup")
    assert (hangup["ChannelStateDesc"], hangup["Cause"], hangup["TechCause"]) == ("Ring", "3", "404")


def test_the_failed_originate_is_the_observed_event_to_the_letter() -> None:
    assert FLOWS["originate-unregistered"]() == [
        [
            ("Event", "OriginateResponse"),
            ("Privilege", "call,all"),
            ("ActionID", "c2c-1"),
            ("Response", "Failure"),
            ("Channel", "PJSIP/6001"),
            ("Context", "from-trunk"),
            ("Exten", "101"),
            ("Reason", "0"),
            ("Uniqueid", "<unknown>"),
            ("CallerIDNum", "6001"),
            ("CallerIDName", "HC Customer"),
        ]
    ]


def test_a_local_chain_shares_one_linkedid_and_each_leg_has_its_cdr_before_its_hangup() -> None:
    events = FLOWS["local-chain"]()
    one, two = (dict(e) for e in events[:2])
    assert one["Channel"].endswith(";1") and two["Channel"] == one["Channel"][:-1] + "2"
    assert one["Linkedid"] == two["Linkedid"] == one["Uniqueid"] != two["Uniqueid"]
    assert {e["Linkedid"] for e in map(dict, events) if "Linkedid" in e} == {one["Uniqueid"]}
    (begin,) = by_event(events, "DialBegin")
    assert "Channel" not in begin and begin["DestChannel"] == one["Channel"]  # the Originate dials ;1
    (response,) = by_event(events, "OriginateResponse")
    assert (response["Response"], response["Reason"], response["Uniqueid"]) == (
        "Success",
        "4",
        one["Uniqueid"],
    )
    order = [(dict(e)["Event"], dict(e).get("UniqueID") or dict(e).get("Uniqueid")) for e in events]
    for leg in (one, two):
        assert order.index(("Cdr", leg["Uniqueid"])) < order.index(("Hangup", leg["Uniqueid"]))


def test_a_queue_call_names_the_queue_and_the_member_who_answered() -> None:
    events = FLOWS["queue"]()
    caller = dict(events[0])
    linked = caller["Linkedid"]
    assert {e["Linkedid"] for e in map(dict, events) if "Linkedid" in e} == {linked}
    join, leave = by_event(events, "QueueCallerJoin")[0], by_event(events, "QueueCallerLeave")[0]
    assert (join["Queue"], join["Position"], join["Count"]) == ("support", "1", "1")
    assert (leave["Position"], leave["Count"]) == ("1", "0")
    for name in ("AgentCalled", "AgentConnect", "AgentComplete"):
        (agent,) = by_event(events, name)
        assert agent["Channel"] == caller["Channel"] and agent["DestLinkedid"] == linked
        assert (agent["Interface"], agent["MemberName"]) == ("Local/100@demo", "Agent100")
    assert by_event(events, "AgentComplete")[0]["Reason"] == "agent"
    member_cdr, caller_cdr = by_event(events, "Cdr")
    assert caller_cdr["UniqueID"] == caller["Uniqueid"] and caller_cdr["LastApplication"] == "Queue"
    assert member_cdr["Channel"].endswith(";2") and member_cdr["DestinationContext"] == "demo"
    assert len(by_event(events, "Hangup")) == 3


async def originate(peer: AmiPeer, **headers: str) -> list[Pairs]:
    reader, writer, parser = await logged_in(peer)
    writer.write(encode([("Action", "Originate"), *headers.items()]))
    frames = await read_frames(reader, parser, 1)
    if dict(frames[0]).get("Response") == "Success" and headers.get("Async") == "true":
        while not any(dict(f).get("Event") == "OriginateResponse" for f in frames):
            frames += await read_frames(reader, parser, 1)
    writer.close()
    return frames


async def test_click_to_call_to_an_unregistered_phone_yields_only_the_failure() -> None:
    peer = await AmiPeer().start()
    frames = await originate(
        peer,
        Channel="PJSIP/6001",
        Context="from-trunk",
        Exten="101",
        Priority="1",
        CallerID="HC Customer <6001>",
        Async="true",
        ActionID="c2c-1",
    )
    assert frames[0] == [
        ("Response", "Success"),
        ("ActionID", "c2c-1"),
        ("Message", "Originate successfully queued"),
    ]
    assert frames[1:] == FLOWS["originate-unregistered"]()
    await asyncio.sleep(0.1)
    assert [dict(p)["Event"] for _, p in peer.sent_events[-1:]] == ["OriginateResponse"]  # nothing else
    await peer.stop()


async def test_a_supervisors_chanspy_to_an_unregistered_phone_fails_naming_the_application() -> None:
    """As a real Asterisk 22.10.1 answered Odoo's Spy with phone 6002 unregistered (2026-12-02)."""
    peer = await AmiPeer().start()
    frames = await originate(
        peer,
        Channel="PJSIP/6002",
        ChannelId="odoo-spy-r1",
        Application="ChanSpy",
        Data="PJSIP/trunk-00000006,qE",
        Async="true",
        CallerID="Spy 0470999888 <6002>",
        ActionID="g1-r1",
    )
    (response,) = by_event(frames, "OriginateResponse")
    assert list(response.items()) == [
        ("Event", "OriginateResponse"),
        ("Privilege", "call,all"),
        ("ActionID", "g1-r1"),
        ("Response", "Failure"),
        ("Channel", "PJSIP/6002"),
        ("Application", "ChanSpy"),
        ("Data", "PJSIP/trunk-00000006,qE"),
        ("Reason", "0"),
        ("Uniqueid", "odoo-spy-r1"),
        ("CallerIDNum", "6002"),
        ("CallerIDName", "Spy 0470999888"),
    ]
    await peer.stop()


async def test_originate_refusals_as_asterisk_answers_them() -> None:
    peer = await AmiPeer().start()
    (sync,) = await originate(peer, Channel="PJSIP/6001", Context="from-trunk", Exten="101", ActionID="s")
    assert dict(sync) == {"Response": "Error", "ActionID": "s", "Message": "Originate failed"}
    (nowhere,) = await originate(
        peer, Channel="PJSIP/101", Context="no-such-context", Exten="1", Async="true", ActionID="n"
    )
    assert dict(nowhere) == {"Response": "Error", "ActionID": "n", "Message": "Extension does not exist."}
    await peer.stop()


async def test_click_to_call_to_a_registered_phone_answers_then_dials() -> None:
    peer = await AmiPeer().start()
    frames = await originate(
        peer,
        Channel="PJSIP/101",
        Context="from-internal",
        Exten="0470123456",
        Async="true",
        ActionID="ok-1",
        ChannelId="odoo-req1",
    )
    (response,) = by_event(frames, "OriginateResponse")
    assert (response["Response"], response["Reason"], response["ActionID"]) == ("Success", "4", "ok-1")
    # The Originate's ChannelId is the phone channel's Uniqueid, so the call's Linkedid.
    assert response["Uniqueid"] == by_event(frames, "Newchannel")[0]["Linkedid"] == "odoo-req1"
    up = [
        dict(f) for f in frames if dict(f).get("Event") == "Newstate" and dict(f)["ChannelStateDesc"] == "Up"
    ]
    assert up and up[0]["Uniqueid"] == response["Uniqueid"]  # the phone answered before the response
    await asyncio.sleep(0.2)
    events = [dict(p)["Event"] for _, p in peer.sent_events]
    assert events.count("Cdr") == 1 and events.index("OriginateResponse") < events.index("Hangup")
    await peer.stop()


async def test_the_channel_ids_an_originate_gives_name_its_channels_as_asterisk_does() -> None:
    """Seen on Asterisk 22.10.1: a failed Originate's response carries the ChannelId; a Local channel's ;2
    half is `<ChannelId>;2`."""
    peer = await AmiPeer().start()
    failed = await originate(
        peer, Channel="PJSIP/6001", Context="from-internal", Exten="101", Async="true", ChannelId="odoo-f1"
    )
    assert by_event(failed, "OriginateResponse")[0]["Uniqueid"] == "odoo-f1"
    frames = await originate(
        peer,
        Channel="Local/101@from-internal",
        Context="from-internal",
        Exten="101",
        Async="true",
        ChannelId="odoo-l1",
    )
    one, two = by_event(frames, "Newchannel")[:2]
    assert (one["Uniqueid"], two["Uniqueid"], two["Linkedid"]) == ("odoo-l1", "odoo-l1;2", "odoo-l1")
    await peer.stop()


async def test_a_local_originate_replays_the_local_chain_with_the_action_id() -> None:
    peer = await AmiPeer().start()
    frames = await originate(
        peer, Channel="Local/101@from-trunk", Context="demo", Exten="100", Async="true", ActionID="loc-1"
    )
    (response,) = by_event(frames, "OriginateResponse")
    assert (response["ActionID"], response["Context"], response["Exten"]) == ("loc-1", "demo", "100")
    await asyncio.sleep(0.2)
    call = [p for _, p in peer.sent_events if dict(p)["Event"] != "SuccessfulAuth"]
    assert names(call) == OBSERVED["local-chain"]
    await peer.stop()


def test_the_cli_replays_a_flow_chosen_by_name_with_timestamps() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "peers.ami_peer",
            "--port",
            str(port),
            "--scenario",
            "answered-no-dial-cdr-first",
            "--pause",
            "0.05",
            "--timestamp-events",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        frames = asyncio.run(_events_from(port, 7))
    finally:
        proc.terminate()
        proc.wait(10)
    assert names(frames) == OBSERVED["answered-no-dial-cdr-first"]
    for frame in frames:
        assert frame[2][0] == "Timestamp" and float(frame[2][1]) > 1.7e9  # right after Privilege, as Asterisk


async def _events_from(port: int, n: int) -> list[Pairs]:
    for _ in range(200):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            break
        except OSError:
            await asyncio.sleep(0.05)
    else:
        raise AssertionError("the peer never listened")
    parser = FrameParser()
    writer.write(encode([("Action", "Login"), ("Username", "admin"), ("Secret", "admin")]))
    frames: list[Pairs] = []
    while len(frames) < n:
        got = await read_frames(reader, parser, 1)
        if not got:
            raise AssertionError("the peer closed the connection")
        frames += [f for f in got if dict(f).get("Event") not in (None, "FullyBooted", "SuccessfulAuth")]
    writer.close()
    return frames[:n]

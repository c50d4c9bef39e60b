"""The AMI peer's recorded call: the events as Asterisk 22.10.1 sent them, the WAV as format_wav writes it."""

from __future__ import annotations

import struct
from datetime import datetime
from pathlib import Path

from peers.ami_peer import AmiPeer
from peers.ami_peer.flows import answered_without_dial
from peers.ami_peer.flows.recording import RecordedCall, play_recorded_call

# The order observed (shared notes, "Recording with MixMonitor"), all event classes on.
OBSERVED = (
    "Newchannel VarSet Newexten Newstate DeviceStateChange Newexten VarSet MixMonitorStart Newexten Newexten "
    "SoftHangupRequest VarSet VarSet VarSet VarSet VarSet Cdr Hangup DeviceStateChange"
).split()


def sizes(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:44]
    return struct.unpack_from("<I", head, 4)[0], struct.unpack_from("<I", head, 40)[0]


def test_the_events_come_in_the_observed_order_with_the_observed_headers() -> None:
    call = RecordedCall(asterisk_dir="/var/spool/asterisk/monitor")
    events = [dict(e) for e in call.events()]
    assert [e["Event"] for e in events] == OBSERVED
    assert "MixMonitorStop" not in {e["Event"] for e in events}  # a hangup sends none
    (varset,) = [e for e in events if e.get("Variable") == "MIXMONITOR_FILENAME"]
    # As a real Asterisk 22.10.1 sent it (the notes leave out ConnectedLine*, Language, AccountCode).
    assert list(varset) == [
        "Event", "Privilege", "Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName",
        "ConnectedLineNum", "ConnectedLineName", "Language", "AccountCode", "Context", "Exten", "Priority",
        "Uniqueid", "Linkedid", "Variable", "Value",
    ]  # fmt: skip
    assert varset["Value"] == f"/var/spool/asterisk/monitor/rec-{call.uniqueid}.wav"
    assert (varset["Privilege"], varset["ChannelState"], varset["Priority"]) == ("dialplan,all", "6", "2")
    start = next(e for e in events if e["Event"] == "MixMonitorStart")
    assert start["Privilege"] == "call,all" and start["Uniqueid"] == start["Linkedid"] == call.uniqueid
    hangup = next(e for e in events if e["Event"] == "Hangup")
    assert hangup["Uniqueid"] == call.uniqueid and hangup["Cause"] == "16"
    mixmonitor = next(e for e in events if e.get("Application") == "MixMonitor")
    assert mixmonitor["AppData"] == "/var/spool/asterisk/monitor/rec-${UNIQUEID}.wav"
    cdr = next(e for e in events if e["Event"] == "Cdr")
    assert cdr["UniqueID"] == call.uniqueid and cdr["Disposition"] == "ANSWERED" and "Linkedid" not in cdr


def test_a_recorded_call_takes_its_uniqueid_from_the_sequence_of_every_flow() -> None:
    """As Asterisk numbers channels: one sequence, so no two channels of the peer share a Uniqueid."""
    start = datetime(2026, 12, 1, 10, 0, 0)
    made = [answered_without_dial(start), RecordedCall(start=start).events(), answered_without_dial(start)]
    uniqueids = [dict(events[0])["Uniqueid"] for events in made]
    numbers = [int(u.split(".")[1]) for u in uniqueids]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    channels = {dict(events[0])["Channel"] for events in made}
    assert len(channels) == 3


def test_while_recording_the_file_is_the_header_with_sizes_0_and_closing_fills_it_in(tmp_path: Path) -> None:
    call = RecordedCall(directory=tmp_path, seconds=1.5)
    call.write_open()
    assert call.path is not None and call.path.stat().st_size == 44 and sizes(call.path) == (0, 0)
    call.write_close()
    assert call.path.stat().st_size == 44 + 24000 and sizes(call.path) == (36 + 24000, 24000)


async def test_played_calls_leave_a_closed_wav_a_header_only_wav_or_one_never_closed(tmp_path: Path) -> None:
    peer = await AmiPeer().start()
    try:
        closed = RecordedCall(directory=tmp_path, seconds=1)
        silent = RecordedCall(directory=tmp_path, seconds=1, audio=False)
        crashed = RecordedCall(directory=tmp_path, seconds=1, closes=False)
        for call in (closed, silent, crashed):
            assert await play_recorded_call(peer, call) == tmp_path / call.file_name
        assert sizes(tmp_path / closed.file_name) == (36 + 16000, 16000)
        # Closed with no audio: update_header writes the sizes of an empty file.
        assert (tmp_path / silent.file_name).stat().st_size == 44
        assert sizes(tmp_path / silent.file_name) == (36, 0)
        assert (tmp_path / crashed.file_name).stat().st_size == 44 + 16000
        assert sizes(tmp_path / crashed.file_name) == (0, 0)
        sent = [dict(p)["Event"] for _, p in peer.sent_events]
        assert sent == OBSERVED * 3
        assert len({closed.uniqueid, silent.uniqueid, crashed.uniqueid}) == 3
    finally:
        await peer.stop()

"""One channel, two MixMonitors: the dialplan's and the one Odoo's recording policy starts (a real Asterisk
22 records both, each to its own file, and sends a VarSet MIXMONITOR_FILENAME for each on the same channel).
The channel's Hangup ends both: each reaches Odoo with the call's Linkedid, without waiting for a scan."""

from __future__ import annotations

from pathlib import Path

from peers.ami_peer.flows.parts import UP, Leg
from peers.ami_peer.flows.recording import RecordedCall, mixmonitor_started, wav_header

from .conftest import ASTERISK_DIR, Stack


def odoo_mixmonitor(call: RecordedCall) -> list[list[tuple[str, str]]]:
    """What Asterisk sends when Odoo's MixMonitor action starts on the call's channel, the Wait running."""
    leg = Leg(call.channel, call.uniqueid, call.uniqueid, "from-trunk", call.exten, call.caller, "Customer")
    leg.state, leg.priority = UP, 3
    return mixmonitor_started(leg.snapshot(), f"{ASTERISK_DIR}/odoo-{call.uniqueid}.wav")


def close(path: Path, seconds: float) -> None:
    data = b"\x10\x00" * int(8000 * seconds)
    path.write_bytes(wav_header(data_bytes=len(data)) + data)


async def test_both_recordings_of_a_channel_end_with_its_hangup_and_keep_their_linkedid(stack: Stack) -> None:
    # No scan after the first: only the events can take the files.
    await stack.start(recordings_scan_interval_s=3600)
    call = RecordedCall(directory=stack.dir, asterisk_dir=ASTERISK_DIR, seconds=2)
    second = stack.dir / f"odoo-{call.uniqueid}.wav"
    await stack.ami.replay(call.opening())
    call.write_open()
    await stack.ami.replay(odoo_mixmonitor(call))
    second.write_bytes(wav_header())
    await stack.ami.replay(call.closing())
    call.write_close()
    close(second, 1.5)

    first = await stack.arrived_file(call.file_name)
    assert (first.uniqueid, first.linkedid, first.status) == (call.uniqueid, call.uniqueid, "ok")
    other = await stack.arrived_file(second.name)
    assert (other.uniqueid, other.linkedid, other.status) == (call.uniqueid, call.uniqueid, "ok")
    assert abs(other.duration - 1.5) < 0.01
    assert stack.service is not None and not await stack.bus.redis.hlen(stack.service.store.live)


async def test_the_same_file_named_twice_is_one_recording(stack: Stack) -> None:
    """MixMonitor started again on a file it already records (a policy that also names rec-<Uniqueid>.wav)."""
    await stack.start(recordings_scan_interval_s=3600)
    call = RecordedCall(directory=stack.dir, asterisk_dir=ASTERISK_DIR, seconds=1)
    await stack.ami.replay(call.opening())
    call.write_open()
    leg = Leg(call.channel, call.uniqueid, call.uniqueid, "from-trunk", call.exten, call.caller, "Customer")
    await stack.ami.replay(mixmonitor_started(leg.snapshot(), f"{ASTERISK_DIR}/{call.file_name}"))
    await stack.ami.replay(call.closing())
    call.write_close()
    recording = await stack.arrived(call)
    assert recording.linkedid == call.uniqueid
    assert [r.file for r in stack.odoo.recordings.recordings.values()] == [call.file_name]

"""A MixMonitor recording from the AMI peer's recorded call reaches the Odoo peer as an MP3 on its call."""

from __future__ import annotations

import asyncio
import hashlib
import time

from services.recordings.state import REJECTED, REPORTED, STORED
from tests.bus.helpers import eventually

from .conftest import Stack
from .helpers import mp3_frames, write_wav


async def test_a_recorded_call_arrives_whole_as_mp3_on_its_call_and_its_wav_is_deleted(stack: Stack) -> None:
    await stack.start()
    call = await stack.call(seconds=5)
    recording = await stack.arrived(call)
    assert recording.status == "ok" and recording.mimetype == "audio/mpeg"
    assert recording.name == f"rec-{call.uniqueid}.mp3" and recording.file == call.file_name
    assert recording.data is not None and hashlib.sha256(recording.data).hexdigest() == recording.sha256
    _, seconds, rate = mp3_frames(recording.data)
    assert rate == 8000 and abs(seconds - 5) < 0.3 and abs(recording.duration - 5) < 0.01
    # Found through the events: the call's Linkedid, and the call the Odoo peer has.
    assert recording.linkedid == call.uniqueid and recording.item["Channel"] == call.channel
    await eventually(
        lambda: _true(stack.odoo.recordings.call_of(recording, stack.call_events()) == call.uniqueid)
    )
    # Several chunks, each delivered once; the WAV is gone once Odoo had it (RECORDINGS_KEEP_DAYS=0).
    chunks = [k for k in stack.odoo.recordings.chunk_receipts if k.startswith(recording.key)]
    assert len(chunks) == -(-len(recording.data) // 4096) > 1
    assert set(stack.odoo.recordings.chunk_receipts[k] for k in chunks) == {1}
    await eventually(lambda: _true(not (stack.dir / call.file_name).exists()))
    await eventually(lambda: _gone(stack, call.file_name))
    assert not list((stack.tmp / "spool").iterdir())


async def _true(value: bool) -> bool:
    return value


async def _gone(stack: Stack, path: str) -> bool:
    return await stack.state(path) is None


async def test_keep_days_keeps_the_wav_until_it_expires(stack: Stack) -> None:
    service = await stack.start(recordings_keep_days=2)
    call = await stack.call(seconds=1)
    await stack.arrived(call)
    await eventually(lambda: _stage(stack, call.file_name, STORED))
    when = await service.bus.redis.zscore(service.store.expire, call.file_name)
    assert when is not None and 1.9 * 86400 < when - time.time() < 2.1 * 86400
    await _sleep_scans(0.6)
    assert (stack.dir / call.file_name).exists()
    # Two days later (the score moved to the past): the next scan deletes it.
    await service.bus.redis.zadd(service.store.expire, {call.file_name: time.time() - 1})
    await eventually(lambda: _true(not (stack.dir / call.file_name).exists()))
    await eventually(lambda: _gone(stack, call.file_name))


async def _sleep_scans(seconds: float) -> bool:
    await asyncio.sleep(seconds)
    return True


async def _stage(stack: Stack, path: str, stage: str) -> bool:
    state = await stack.state(path)
    return state is not None and state.stage == stage


async def test_a_call_without_audio_is_reported_empty_and_its_header_only_wav_deleted(stack: Stack) -> None:
    await stack.start()
    call = await stack.call(seconds=1, audio=False)
    assert call.path is not None and call.path.stat().st_size == 44
    recording = await stack.arrived(call)
    assert recording.status == "empty" and recording.data is None and recording.reason
    assert stack.odoo.recordings.chunk_receipts == {}
    await eventually(lambda: _true(not call.path.exists()))


async def test_a_file_asterisk_never_closed_is_reported_truncated_once_and_kept(stack: Stack) -> None:
    await stack.start(recordings_stale_s=1.0)
    call = await stack.call(seconds=2, closes=False)
    recording = await stack.arrived(call)
    assert recording.status == "truncated" and "never completed the header" in recording.reason
    await eventually(lambda: _stage(stack, call.file_name, REPORTED))
    await _sleep_scans(1.0)  # five more scans: never sent again
    assert stack.odoo.recordings.summary_receipts[recording.key] == 1
    assert call.path is not None and call.path.exists()


async def test_a_truncated_copy_and_a_file_that_is_no_wav_are_reported_not_retried(stack: Stack) -> None:
    await stack.start(recordings_stale_s=1.0)
    write_wav(stack.dir / "cut-1796100000.1.wav", 2)
    full = (stack.dir / "cut-1796100000.1.wav").read_bytes()
    (stack.dir / "cut-1796100000.1.wav").write_bytes(full[: len(full) // 2])
    (stack.dir / "junk-1796100000.2.wav").write_bytes(b"this is not audio at all")
    await eventually(lambda: _true(len(stack.odoo.recordings.recordings) == 2), timeout=30)
    by_file = {r.file: r for r in stack.odoo.recordings.recordings.values()}
    assert by_file["cut-1796100000.1.wav"].status == "truncated"
    assert "the header says 32000 bytes of audio" in by_file["cut-1796100000.1.wav"].reason
    assert by_file["junk-1796100000.2.wav"].status == "invalid"
    assert by_file["junk-1796100000.2.wav"].uniqueid == "1796100000.2"  # from the file name
    await _sleep_scans(1.0)
    assert set(stack.odoo.recordings.summary_receipts.values()) == {1}
    assert (stack.dir / "cut-1796100000.1.wav").exists() and (stack.dir / "junk-1796100000.2.wav").exists()


async def test_a_finished_file_no_event_announced_is_found_by_the_scan(stack: Stack) -> None:
    await stack.start()
    pcm = write_wav(stack.dir / "2026" / "12" / "out-101-1796100001.7.wav", 3, rate=16000, channels=2)
    assert len(pcm) == 3 * 16000 * 4
    await eventually(lambda: _true(len(stack.odoo.recordings.recordings) == 1))
    (recording,) = stack.odoo.recordings.recordings.values()
    assert recording.file == "2026/12/out-101-1796100001.7.wav" and recording.uniqueid == "1796100001.7"
    assert recording.linkedid == "" and recording.status == "ok"
    assert recording.data is not None and abs(mp3_frames(recording.data)[1] - 3) < 0.3


async def test_odoo_refusing_a_recording_keeps_the_wav_and_never_sends_it_again(stack: Stack) -> None:
    stack.odoo.recordings.reject = lambda item: "no such call on this server"
    await stack.start()
    call = await stack.call(seconds=1)
    await eventually(lambda: _stage(stack, call.file_name, REJECTED))
    state = await stack.state(call.file_name)
    assert state is not None and "no such call on this server" in state.reason
    dead = await stack.bus.redis.xrange(stack.bus.key("dead"))
    assert [f["@id"] for _, f in dead if f.get("@type") == "recording"] == [state.key]
    await _sleep_scans(1.0)
    assert stack.odoo.recordings.summary_receipts[state.key] == 1  # dead-lettered once, not retried
    assert call.path is not None and call.path.exists()


async def test_the_same_recording_sent_again_is_stored_once(stack: Stack) -> None:
    service = await stack.start(recordings_keep_days=1)
    call = await stack.call(seconds=1)
    first = await stack.arrived(call)
    await eventually(lambda: _stage(stack, call.file_name, STORED))
    # Redis lost the service's state: the scan finds the kept WAV again and sends it again.
    await service.bus.redis.delete(service.store.files, service.store.expire, service.store.keys)
    await eventually(lambda: _true(stack.odoo.recordings.summary_receipts[first.key] == 2))
    await eventually(lambda: _stage(stack, call.file_name, STORED))  # Odoo's `duplicate` is a verdict too
    assert len(stack.odoo.recordings.recordings) == 1
    # The chunks came twice and were answered `duplicate`: nothing is left staged.
    chunks = [n for k, n in stack.odoo.recordings.chunk_receipts.items() if k.startswith(first.key)]
    assert chunks and set(chunks) == {2}
    assert stack.odoo.recordings.staged == {}


async def test_two_calls_with_the_same_audio_are_two_recordings(stack: Stack) -> None:
    await stack.start()
    write_wav(stack.dir / "rec-1796100011.1.wav", 2, seed=5)
    write_wav(stack.dir / "rec-1796100011.2.wav", 2, seed=5)  # the same bytes: two silent calls, say
    await eventually(lambda: _true(len(stack.odoo.recordings.recordings) == 2))
    first, second = stack.odoo.recordings.recordings.values()
    assert first.status == second.status == "ok" and first.data == second.data
    assert first.key != second.key and first.sha256 == second.sha256

"""Whether a WAV is finished, from the header Asterisk completes when it closes the file."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from peers.ami_peer.flows.recording import wav_header
from services.recordings.wav import Action, Fault, judge, read_header

from .helpers import write_wav

NOW = 1_800_000_000.0
SETTLE, STALE = 2.0, 3600.0


def verdict(path: Path, *, idle: float, ended: bool = False) -> tuple[Action, str]:
    wav = read_header(path)
    decision = judge(wav, ended=ended, now=wav.mtime + idle, settle_s=SETTLE, stale_s=STALE)
    return decision.action, decision.status


def asterisk_file(path: Path, samples: int, closed: bool) -> Path:
    data = b"\x01\x02" * samples
    path.write_bytes(wav_header(8000, len(data) if closed else None) + data)
    return path


def test_a_closed_file_is_encoded_once_it_has_been_still_a_moment(tmp_path: Path) -> None:
    path = asterisk_file(tmp_path / "a.wav", 8000, closed=True)
    assert verdict(path, idle=0.5) == (Action.WAIT, "")  # just closed: maybe reopened to append
    assert verdict(path, idle=SETTLE) == (Action.ENCODE, "ok")
    wav = read_header(path)
    assert (wav.data_offset, wav.declared, wav.rate, wav.channels) == (44, 16000, 8000, 1)


def test_a_file_being_recorded_waits_even_long_after_its_call_ended(tmp_path: Path) -> None:
    path = asterisk_file(tmp_path / "a.wav", 8000, closed=False)
    assert verdict(path, idle=100, ended=True) == (Action.WAIT, "")
    action, status = verdict(path, idle=STALE)  # Asterisk died writing it
    assert (action, status) == (Action.REPORT, "truncated")


def test_a_header_only_file_is_empty_once_closed_and_not_while_open_even_after_its_hangup(
    tmp_path: Path,
) -> None:
    # A real Asterisk 22: the file of a call with a tone playing was 44 bytes, sizes 0, 1.2 s into the call
    # (buffered writes), and closed (with its audio) only after the channel's Hangup event.
    path = asterisk_file(tmp_path / "open.wav", 0, closed=False)
    assert path.stat().st_size == 44 and read_header(path).riff == 0
    assert verdict(path, idle=600, ended=True) == (Action.WAIT, "")
    assert verdict(path, idle=STALE) == (Action.EMPTY, "empty")  # Asterisk died: never closed
    # Closed empty: update_header wrote RIFF size 36 (as the real Asterisk did for a call without audio).
    path = asterisk_file(tmp_path / "closed.wav", 0, closed=True)
    assert read_header(path).riff == 36
    assert verdict(path, idle=0.5, ended=True) == (Action.WAIT, "")  # settling
    assert verdict(path, idle=SETTLE) == (Action.EMPTY, "empty")


def test_a_file_cut_short_is_truncated_once_nothing_more_comes(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    write_wav(path, 1)
    path.write_bytes(path.read_bytes()[:-1000])
    assert verdict(path, idle=SETTLE) == (Action.WAIT, "")  # a copy still under way
    assert verdict(path, idle=SETTLE, ended=True) == (Action.REPORT, "truncated")


def test_bytes_beyond_the_header_size_wait_for_the_end_then_only_the_declared_ones_count(
    tmp_path: Path,
) -> None:
    path = asterisk_file(tmp_path / "a.wav", 8000, closed=True)
    with open(path, "ab") as f:
        f.write(b"\x00\x00" * 4000)  # MixMonitor's `a` option appending, the header not yet updated
    assert verdict(path, idle=SETTLE) == (Action.WAIT, "")
    wav = read_header(path)
    decision = judge(wav, ended=True, now=wav.mtime + SETTLE, settle_s=SETTLE, stale_s=STALE)
    assert decision.action is Action.ENCODE and decision.nbytes == 16000


@pytest.mark.parametrize(
    ("content", "fault"),
    [
        (b"RIFF", Fault.INCOMPLETE),
        (b"ID3\x04" + b"\x00" * 100, Fault.INVALID),
        (b"RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00", Fault.INVALID),
        (
            b"RIFF\x00\x00\x00\x00WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
            + b"data"
            + bytes(4),
            Fault.UNSUPPORTED,
        ),
        (
            b"RIFF\x00\x00\x00\x00WAVEfmt " + struct.pack("<IHHIIHH", 16, 6, 1, 8000, 8000, 1, 8),
            Fault.INCOMPLETE,
        ),
    ],
    ids=["four-bytes", "mp3", "data-before-fmt", "8-bit", "alaw-no-data-yet"],
)
def test_what_is_no_usable_wav_is_said_so(tmp_path: Path, content: bytes, fault: Fault) -> None:
    path = tmp_path / "a.wav"
    path.write_bytes(content)
    wav = read_header(path)
    assert wav.fault is fault and wav.why
    expected = Action.WAIT if fault is Fault.INCOMPLETE else Action.REPORT
    assert verdict(path, idle=SETTLE)[0] is expected
    assert verdict(path, idle=STALE)[0] is Action.REPORT


def test_a_wav_made_by_the_wave_module_with_extra_chunks_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    write_wav(path, 1, rate=16000, channels=2)
    raw = path.read_bytes()
    listed = raw[:36] + b"LIST" + struct.pack("<I", 5) + b"INFOx\x00" + raw[36:]  # odd chunk: padded
    path.write_bytes(listed)
    wav = read_header(path)
    assert wav.fault is None and (wav.rate, wav.channels, wav.declared) == (16000, 2, 64000)
    assert wav.data_offset == 44 + 14 and verdict(path, idle=SETTLE) == (Action.ENCODE, "ok")

"""A recording's WAV header, and whether the file is finished.

Asterisk's `wav` format writes its 44-byte header with both sizes at 0 when MixMonitor opens the file, and
fills them in when it closes it (`update_header` in `wav_close`: RIFF size = 36 + data size): a header whose
data size matches the bytes on disk is a closed file, and a header-only file with RIFF size 36 one closed
empty. A file whose header still says 0 is being written (or Asterisk died writing it), even at 44 bytes: a
real Asterisk's file stays there a while with audio flowing (its writes are buffered) and is closed only after
the channel's Hangup event.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path

HEADER_READ = 4096  # the fmt and data chunk headers are always near the start
PCM = 1


class Fault(Enum):
    INCOMPLETE = "incomplete"  # fewer bytes than a header: still being written, or cut
    INVALID = "invalid"  # not a RIFF/WAVE file
    UNSUPPORTED = "unsupported"  # a WAV, but not 16-bit PCM


@dataclass(frozen=True)
class Wav:
    size: int  # bytes on disk
    mtime: float
    riff: int = 0  # the RIFF size field: 0 until Asterisk closes the file, then 36 + the data size
    data_offset: int = 0  # where the samples start
    declared: int = 0  # the data chunk's size field
    channels: int = 1
    rate: int = 8000
    bits: int = 16
    fault: Fault | None = None
    why: str = ""

    @property
    def present(self) -> int:
        """Sample bytes on disk after the header."""
        return max(self.size - self.data_offset, 0)

    @property
    def block_align(self) -> int:
        return self.channels * self.bits // 8


def read_header(path: Path) -> Wav:
    """The header as the file holds it now; a fault instead of an exception for what is not a usable WAV."""
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        head = f.read(HEADER_READ)
    base = Wav(st.st_size, st.st_mtime)
    if len(head) < 12:
        return replace(base, fault=Fault.INCOMPLETE, why=f"{len(head)} bytes, shorter than a WAV header")
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return replace(base, fault=Fault.INVALID, why="not a RIFF/WAVE file")
    base = replace(base, riff=struct.unpack_from("<I", head, 4)[0])
    pos, fmt = 12, None
    while pos + 8 <= len(head):
        name, length = head[pos : pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        body = pos + 8
        if name == b"fmt ":
            if length < 16 or body + 16 > len(head):
                return replace(base, fault=Fault.INCOMPLETE, why="fmt chunk cut short")
            tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", head, body)
            fmt = (tag, channels, rate, bits)
        elif name == b"data":
            if fmt is None:
                return replace(base, fault=Fault.INVALID, why="data chunk before its fmt chunk")
            tag, channels, rate, bits = fmt
            found = replace(base, data_offset=body, declared=length, channels=channels, rate=rate)
            if tag != PCM or bits != 16 or channels not in (1, 2) or not 8000 <= rate <= 48000:
                why = f"format {tag}, {bits} bits, {channels} channels, {rate} Hz: only 16-bit PCM is encoded"
                return replace(found, bits=bits, fault=Fault.UNSUPPORTED, why=why)
            return found
        pos = body + length + (length & 1)
    return replace(base, fault=Fault.INCOMPLETE, why="no data chunk in the header")


class Action(Enum):
    WAIT = "wait"  # look again later
    ENCODE = "encode"  # finished: encode `Decision.nbytes` sample bytes
    EMPTY = "empty"  # finished without a sample: reported, nothing to encode
    REPORT = "report"  # finished but unusable: reported with `Decision.why`, the file kept


@dataclass(frozen=True)
class Decision:
    action: Action
    status: str = ""  # what the recording's summary says: ok | empty | truncated | invalid | unsupported
    why: str = ""
    nbytes: int = 0
    retry_in: float = 0.0  # WAIT: when to look again, if known (a closed file still settling)


def judge(wav: Wav, *, ended: bool, now: float, settle_s: float, stale_s: float) -> Decision:
    """Whether a recording is finished, from its header, whether its call has ended, and its quiet time."""
    idle = now - wav.mtime
    over = (ended and idle >= settle_s) or idle >= stale_s  # nothing more will come
    if wav.fault is Fault.INVALID or wav.fault is Fault.UNSUPPORTED:
        return Decision(Action.REPORT, wav.fault.value, wav.why)
    if wav.fault is Fault.INCOMPLETE:
        return Decision(Action.REPORT, "truncated", wav.why) if over else Decision(Action.WAIT)
    present, declared = wav.present, wav.declared
    if declared == 0 and present == 0:
        # A real Asterisk leaves an open file at 44 bytes a while even with audio flowing (buffered), and
        # closes it after the Hangup event: only the RIFF size it then writes (36) says it closed empty.
        if wav.riff and idle >= settle_s:
            return Decision(Action.EMPTY, "empty", "no audio was recorded")
        if idle >= stale_s:
            return Decision(Action.EMPTY, "empty", "no audio was recorded (Asterisk never closed the file)")
        return Decision(Action.WAIT, retry_in=settle_s - idle if wav.riff else 0.0)
    if declared == 0:
        if idle >= stale_s:
            why = f"Asterisk never completed the header ({present} bytes of audio, sizes still 0)"
            return Decision(Action.REPORT, "truncated", why)
        return Decision(Action.WAIT)
    if declared > present:
        why = f"the header says {declared} bytes of audio, {present} are there"
        return Decision(Action.REPORT, "truncated", why) if over else Decision(Action.WAIT)
    nbytes = declared - declared % wav.block_align
    # More bytes than the header says: MixMonitor is appending (its `a` option), or a chunk follows the data.
    closed = present - declared <= 1
    if (closed and idle >= settle_s) or over:
        return Decision(Action.ENCODE, "ok", nbytes=nbytes)
    return Decision(Action.WAIT, retry_in=settle_s - idle if closed else 0.0)

"""A recorded call as a real Asterisk 22.10.1 sent it, and the WAV it leaves behind.

The call: `Answer()`, `MixMonitor(<dir>/rec-${UNIQUEID}.wav)`, `Wait(n)`, `Hangup()` on an answered inbound
call, with all event classes on (shared notes, "Recording with MixMonitor"): `Newchannel > VarSet > Newexten >
Newstate > DeviceStateChange > Newexten(MixMonitor) > VarSet(MIXMONITOR_FILENAME) > MixMonitorStart > Newexten
> Newexten > SoftHangupRequest > VarSet x5 > Cdr > Hangup > DeviceStateChange`. No MixMonitorStop comes at
hangup. Every event carries the whole channel snapshot: the notes' excerpt of VarSet(MIXMONITOR_FILENAME) and
MixMonitorStart leaves out ConnectedLine*, Language and AccountCode, which a real Asterisk 22.10.1 sent when
checked (MixMonitor on a Local channel, 2026-12-01). The variables of the other VarSets are not in the notes
(here: one set by the dialplan, and chan_pjsip's RTP statistics).

The file: written as Asterisk's `wav` format does, a 44-byte header with both sizes 0 when MixMonitor opens
it, the samples after it, the sizes filled in when the file closes, a moment after the channel is gone. A call
in which nobody sent audio leaves the header alone (44 bytes).
"""

from __future__ import annotations

import asyncio
import math
import struct
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .parts import (
    DIALPLAN,
    RING,
    UP,
    Flow,
    Leg,
    Pairs,
    cdr,
    device,
    event,
    hangup,
    newexten,
    soft_hangup,
    trunk_answered,
    varset,
)

if TYPE_CHECKING:
    from ..server import AmiPeer


def voice_pcm(seconds: float, rate: int = 8000, seed: int = 0) -> bytes:
    """16-bit mono samples that look like speech to an encoder: a wandering pitch with harmonics, syllables,
    pauses. One second is computed and the rest varied from it, so an hour takes no time to make."""
    second = []
    pitch = 110 + seed % 90
    for n in range(rate):
        syllable = 0.5 - 0.5 * math.cos(2 * math.pi * (n % (rate // 4)) / (rate // 4))
        t = n / rate
        v = sum(math.sin(2 * math.pi * pitch * h * t * (1 + 0.05 * math.sin(3 * t))) / h for h in range(1, 6))
        second.append(int(5000 * syllable * v))
    out = bytearray()
    for s in range(math.ceil(seconds)):
        gain = 0.0 if s % 7 == 6 else 0.6 + 0.4 * ((s * 7919 + seed) % 11) / 10  # a pause now and then
        out += struct.pack(f"<{rate}h", *(int(x * gain) for x in second))
    return bytes(out[: int(seconds * rate) * 2])


def wav_header(rate: int = 8000, data_bytes: int | None = None) -> bytes:
    """The header Asterisk's `wav` format writes: both sizes 0 when opening (`data_bytes` None), when closing
    the RIFF size 36 + the data size (36 for a file closed empty)."""
    riff = 0 if data_bytes is None else 36 + data_bytes
    return (
        b"RIFF"
        + struct.pack("<I", riff)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", data_bytes or 0)
    )


@dataclass
class RecordedCall:
    directory: Path | None = None  # where the WAV is written (the recordings service's RECORDINGS_DIR)
    asterisk_dir: str = "/var/spool/asterisk/monitor"  # the same directory as Asterisk names it
    seconds: float = 2.0
    audio: bool = True  # False: nobody sent audio, a header-only WAV
    closes: bool = True  # False: Asterisk died before closing the file (its sizes stay 0)
    caller: str = "0470123456"
    exten: str = "105"
    start: datetime = field(default_factory=datetime.now)

    def __post_init__(self) -> None:
        # Numbered from the flows' one sequence: no channel of the peer shares its Uniqueid.
        self.flow = Flow(self.start)
        self.uniqueid = self.flow.uniqueid()
        self.channel = f"PJSIP/trunk-{self.flow.suffix()}"

    @property
    def file_name(self) -> str:
        return f"rec-{self.uniqueid}.wav"

    @property
    def path(self) -> Path | None:
        return None if self.directory is None else self.directory / self.file_name

    def _leg(self, priority: int, up: bool = True) -> Leg:
        uid = self.uniqueid
        leg = Leg(self.channel, uid, uid, "from-trunk", self.exten, self.caller, "Customer")
        leg.state, leg.priority = UP if up else RING, priority
        return leg

    def opening(self) -> list[Pairs]:
        """Up to MixMonitorStart: the recording has begun."""
        mixmonitor = self._leg(2)
        return [
            *trunk_answered(self._leg(1, up=False), "FROM_TRUNK"),
            newexten(mixmonitor, "MixMonitor", f"{self.asterisk_dir}/rec-${{UNIQUEID}}.wav"),
            varset(mixmonitor, "MIXMONITOR_FILENAME", f"{self.asterisk_dir}/{self.file_name}"),
            event("MixMonitorStart", mixmonitor.snapshot()),
        ]

    def closing(self) -> list[Pairs]:
        """From the Wait to the end: no MixMonitorStop, the channel's Hangup ends the recording."""
        wait, leg = self._leg(3), self._leg(4)
        qos = [
            (
                "RTPAUDIOQOS",
                "ssrc=1;themssrc=2;lp=0;rxjitter=0.000;rxcount=100;txjitter=0.000;txcount=100;rlp=0",
            ),
            (
                "RTPAUDIOQOSJITTER",
                "minrxjitter=0.000;maxrxjitter=0.000;avgrxjitter=0.000;stdevrxjitter=0.000",
            ),
            ("RTPAUDIOQOSLOSS", "minrxlost=0.000;maxrxlost=0.000;avgrxlost=0.000;stdevrxlost=0.000"),
            ("RTPAUDIOQOSRTT", "minrtt=0.000;maxrtt=0.000;avgrtt=0.000;stdevrtt=0.000"),
            ("RTPAUDIOQOSMES", "minrxmes=0.000;maxrxmes=0.000;avgrxmes=0.000;stdevrxmes=0.000"),
        ]
        record = cdr(self.flow, leg, last_app="Hangup", talk_s=int(self.seconds))
        return [
            newexten(wait, "Wait", f"{self.seconds:g}"),
            newexten(leg, "Hangup"),
            soft_hangup(leg),
            *(varset(leg, name, value) for name, value in qos),
            record,
            hangup(leg),
            device("PJSIP/trunk", "UNAVAILABLE"),
        ]

    def events(self) -> list[Pairs]:
        return self.opening() + self.closing()

    def write_open(self) -> None:
        """The file while the call goes on, as a real Asterisk's looked 1.2 s into a call with audio: the
        header with sizes 0 and nothing after it yet (MixMonitor's writes are buffered)."""
        assert self.path is not None
        self.path.write_bytes(wav_header())

    def write_samples(self) -> int:
        """The buffered samples reach the file (at the close, or when Asterisk dies); their byte count."""
        assert self.path is not None
        data = voice_pcm(self.seconds, seed=int(self.uniqueid.rsplit(".", 1)[1])) if self.audio else b""
        with open(self.path, "ab") as f:
            f.write(data)
        return len(data)

    def write_close(self) -> None:
        """What `wav_close` does: the samples flushed, then the sizes in the header (offsets 4 and 40)."""
        assert self.path is not None
        data_bytes = self.write_samples()
        with open(self.path, "r+b") as f:
            f.seek(4)
            f.write(struct.pack("<I", 36 + data_bytes))
            f.seek(40)
            f.write(struct.pack("<I", data_bytes))


MONITOR_DIR = "/var/spool/asterisk/monitor"  # where MixMonitor puts a relative file name


def mixmonitor_started(snapshot: Pairs, file: str) -> list[Pairs]:
    """What Asterisk sends after answering an AMI `MixMonitor` action on a channel (whose snapshot headers
    are given): the file's full name in MIXMONITOR_FILENAME, then MixMonitorStart."""
    path = file if file.startswith("/") else f"{MONITOR_DIR}/{file}"
    return [
        event("VarSet", snapshot, ("Variable", "MIXMONITOR_FILENAME"), ("Value", path), privilege=DIALPLAN),
        event("MixMonitorStart", snapshot),
    ]


async def play_recorded_call(peer: AmiPeer, call: RecordedCall, close_delay: float = 0.05) -> Path | None:
    """Send the call's events and, with a directory, write its WAV as Asterisk would: closed a moment after
    the Hangup (MixMonitor's thread closes the file once the channel is gone), or, if Asterisk dies
    (`closes=False`), left with its samples and sizes 0."""
    await peer.replay(call.opening())
    if call.directory is not None:
        call.write_open()
    await peer.replay(call.closing())
    if call.directory is not None:
        await asyncio.sleep(close_delay)
        if call.closes:
            call.write_close()
        else:
            call.write_samples()
    return call.path


async def demo_recordings(peer: AmiPeer, directory: Path, asterisk_dir: str, pause: float = 20.0) -> None:
    """`make run`: a recorded call now and then, its WAV in `directory`, while a client is logged in."""
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    while True:
        await asyncio.sleep(pause)
        if any(s.user for s in peer.sessions):
            await play_recorded_call(peer, RecordedCall(directory, asterisk_dir, seconds=8))

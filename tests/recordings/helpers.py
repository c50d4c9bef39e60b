"""WAV files made with the stdlib `wave` module, an MP3 frame reader to check what the service made, and the
service run as a process of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import wave
from pathlib import Path

from peers.ami_peer.flows.recording import voice_pcm

# MPEG audio, layer III: bitrates (kbps) by version, sample rates by version, samples per frame.
BITRATES = {
    "1": [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    "2": [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
}
RATES = {3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000]}


def write_wav(path: Path, seconds: float, rate: int = 8000, channels: int = 1, seed: int = 0) -> bytes:
    """A finished WAV as the `wave` module writes it (its header complete); returns the samples written."""
    pcm = voice_pcm(seconds, rate, seed)
    if channels == 2:
        pcm = b"".join(pcm[i : i + 2] * 2 for i in range(0, len(pcm), 2))
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return pcm


def mp3_frames(data: bytes) -> tuple[int, float, int]:
    """(frames, seconds, sample rate) of an MPEG layer III stream; AssertionError at the first bad byte."""
    pos = frames = 0
    seconds = 0.0
    rate = 0
    while pos < len(data):
        if data[pos : pos + 3] == b"ID3":  # an ID3v2 tag: 10-byte header, syncsafe size
            size = data[pos + 6] << 21 | data[pos + 7] << 14 | data[pos + 8] << 7 | data[pos + 9]
            pos += 10 + size
            continue
        b1, b2 = data[pos + 1], data[pos + 2]
        assert data[pos] == 0xFF and b1 & 0xE0 == 0xE0, f"no frame sync at byte {pos}"
        version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
        assert version != 1 and layer == 1, f"not MPEG layer III at byte {pos}"
        bitrate = BITRATES["1" if version == 3 else "2"][b2 >> 4] * 1000
        rate = RATES[version][(b2 >> 2) & 3]
        padding = (b2 >> 1) & 1
        per_frame = 1152 if version == 3 else 576
        length = (per_frame // 8) * bitrate // rate + padding
        assert bitrate and length > 4, f"bad frame header at byte {pos}"
        pos += length
        frames += 1
        seconds += per_frame / rate
    assert pos == len(data), "the last frame is cut"
    return frames, seconds, rate


ROOT = Path(__file__).resolve().parents[2]
CHUNK = 4096
WINDOW = 8  # chunks


class ServiceProcess:
    def __init__(self, redis_url: str, prefix: str, tmp: Path, **env: str) -> None:
        self.env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "PBX_PREFIX": prefix,
            "RECORDINGS_DIR": str(tmp / "monitor"),
            "RECORDINGS_SPOOL_DIR": str(tmp / "spool"),
            "RECORDINGS_CHUNK_BYTES": str(CHUNK),
            "RECORDINGS_WINDOW_BYTES": str(CHUNK * WINDOW),
            "RECORDINGS_SCAN_INTERVAL_S": "0.2",
            "RECORDINGS_SETTLE_S": "0.1",
            "BUS_BLOCK_MS": "100",
            "CONSUMER_NAME": "recordings-1",  # as in a container: the restarted process is the same consumer
            **env,
        }
        self.logs = tmp / "recordings.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        out = open(self.logs, "a")  # the process owns it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.recordings"], cwd=ROOT, env=self.env, stdout=out, stderr=out
        )

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def peak_rss_mb(self) -> float:
        assert self.proc is not None
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.terminate()
        return self.proc.wait(30)

"""WAV files made with the stdlib `wave` module, and an MP3 frame reader to check what the service made."""

from __future__ import annotations

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

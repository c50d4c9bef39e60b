"""WAV -> MP3 in blocks, and the recording's dedupe key, in one pass over the file (blocking: in a thread).

Memory does not grow with the recording: one block of samples and LAME's own buffers at a time, the MP3
written to the spool file as it comes. Why MP3 with lameenc: see docs/recordings.md.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import lameenc

from .wav import Wav

BLOCK = 65_536  # bytes of samples per encoder call: 4 s of 8 kHz mono, a multiple of every block align


@dataclass(frozen=True)
class Encoded:
    key: str  # the dedupe key: sha256 of the file's relative path, a NUL, and every byte of the file
    sha256: str  # of the MP3
    size: int  # MP3 bytes
    duration: float  # seconds of audio


def new_key(relpath: str) -> hashlib._Hash:
    """Two files with the same bytes (two silent calls) are still two recordings: the path is hashed first."""
    return hashlib.sha256(relpath.encode() + b"\0")


def file_key(path: Path, relpath: str) -> str:
    """The dedupe key of a file that is reported, not encoded."""
    key = new_key(relpath)
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            key.update(block)
    return key.hexdigest()


def encode_mp3(
    path: Path, relpath: str, wav: Wav, nbytes: int, out: Path, kbps: int, quality: int
) -> Encoded:
    """Encode the first `nbytes` sample bytes to `out` (written whole, then renamed: never half a file)."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(kbps)
    encoder.set_in_sample_rate(wav.rate)
    encoder.set_channels(wav.channels)
    encoder.set_quality(quality)
    key, mp3_hash = new_key(relpath), hashlib.sha256()
    part = out.with_name(out.name + ".part")
    size = 0
    with open(path, "rb") as src, open(part, "wb") as dst:
        key.update(src.read(wav.data_offset))
        left = nbytes
        while left > 0:
            block = src.read(min(BLOCK, left))
            if not block:
                raise OSError(f"{relpath} shrank while it was read ({nbytes - left} of {nbytes} bytes)")
            key.update(block)
            left -= len(block)
            mp3 = encoder.encode(block[: len(block) - len(block) % wav.block_align])
            dst.write(mp3)
            mp3_hash.update(mp3)
            size += len(mp3)
        mp3 = encoder.flush()
        dst.write(mp3)
        mp3_hash.update(mp3)
        size += len(mp3)
        while block := src.read(BLOCK):  # whatever follows the samples is part of the file's identity
            key.update(block)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(part, out)
    _fsync_dir(out.parent)
    frames = nbytes // wav.block_align
    return Encoded(key.hexdigest(), mp3_hash.hexdigest(), size, frames / wav.rate)


def read_chunk(path: Path, index: int, chunk_bytes: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(index * chunk_bytes)
        return f.read(chunk_bytes)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

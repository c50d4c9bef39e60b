"""WAV -> MP3: valid frames for the whole duration, the dedupe key, memory that does not follow the size."""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import pytest

from services.recordings.encode import encode_mp3, file_key
from services.recordings.wav import read_header

from .helpers import mp3_frames, write_wav


@pytest.mark.parametrize(("rate", "channels", "kbps"), [(8000, 1, 24), (8000, 1, 16), (16000, 2, 32)])
def test_the_mp3_holds_the_whole_recording(tmp_path: Path, rate: int, channels: int, kbps: int) -> None:
    wav_path = tmp_path / "rec.wav"
    write_wav(wav_path, 7, rate=rate, channels=channels)
    wav = read_header(wav_path)
    out = tmp_path / "rec.mp3"
    encoded = encode_mp3(wav_path, "rec.wav", wav, wav.declared, out, kbps, 7)
    data = out.read_bytes()
    assert encoded.size == len(data) and encoded.sha256 == hashlib.sha256(data).hexdigest()
    assert encoded.duration == 7.0
    _, seconds, _ = mp3_frames(data)
    assert abs(seconds - 7) < 0.3  # LAME adds its delay and padding: a few frames
    assert abs(len(data) * 8 / seconds / 1000 - kbps) < 2  # constant bitrate as set
    assert not (tmp_path / "rec.mp3.part").exists()


def test_the_key_is_the_files_path_and_bytes(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", 1)
    (tmp_path / "b.wav").write_bytes((tmp_path / "a.wav").read_bytes())
    wav = read_header(tmp_path / "a.wav")
    encoded = encode_mp3(tmp_path / "a.wav", "a.wav", wav, wav.declared, tmp_path / "a.mp3", 24, 7)
    assert encoded.key == file_key(tmp_path / "a.wav", "a.wav")  # one pass or two: the same key
    assert encoded.key == hashlib.sha256(b"a.wav\0" + (tmp_path / "a.wav").read_bytes()).hexdigest()
    # Two silent calls make the same bytes: still two recordings.
    assert file_key(tmp_path / "b.wav", "b.wav") != encoded.key


def test_memory_does_not_grow_with_the_recording(tmp_path: Path) -> None:
    def peak(seconds: int) -> int:
        path = tmp_path / f"{seconds}.wav"
        write_wav(path, seconds)
        wav = read_header(path)
        tracemalloc.start()
        encode_mp3(path, path.name, wav, wav.declared, tmp_path / f"{seconds}.mp3", 24, 9)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    short, long = peak(10), peak(600)
    assert long < 2 * short + 64 * 1024, (short, long)  # 60 times the audio, not 60 times the memory
    assert long < 1024 * 1024

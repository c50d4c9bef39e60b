"""What Odoo accepts of a recording's chunks and summary (odoo_addons/asterisk_plus/recording_items.py), the
checks that run before anything is stored, without an Odoo."""

from __future__ import annotations

import base64
import importlib.util
from pathlib import Path

import pytest

MODULE = Path(__file__).resolve().parents[2] / "odoo_addons" / "asterisk_plus"


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(f"asterisk_plus_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ri = load("recording_items", MODULE / "recording_items.py")
made = load("recording_items_for_tests", MODULE / "tests" / "recording_items_for_tests.py")


def on_bus(item: dict) -> dict:
    return dict(item, **{"@entry": "1-0"})


def test_the_chunks_of_a_recording_join_into_its_mp3_whatever_order_they_were_staged_in() -> None:
    chunks, summary = made.recording(chunk_bytes=1000)
    assert len(chunks) > 3
    staged = {}
    for item in reversed(chunks):
        chunk = ri.chunk(on_bus(item))
        staged[chunk.index] = chunk.data
    values = ri.summary(on_bus(summary))
    assert ri.join(values, staged) == made.MP3
    assert (values["uniqueid"], values["linkedid"], values["name"]) == (
        "1796104207.3",
        "1796104207.0",
        "rec-1796104207.3.mp3",
    )


def test_a_missing_chunk_or_a_wrong_sha256_is_named_never_half_a_recording() -> None:
    chunks, summary = made.recording(chunk_bytes=1000)
    staged = {ri.chunk(on_bus(item)).index: item["data"] for item in chunks}
    values = ri.summary(on_bus(summary))
    with pytest.raises(ValueError, match=r"chunks missing for [0-9a-f]{12}: \[2\]"):
        ri.join(values, {k: v for k, v in staged.items() if k != 2})
    bad_chunks, bad_summary = made.recording(chunk_bytes=1000, sha256="0" * 64)
    bad = ri.summary(on_bus(bad_summary))
    with pytest.raises(ValueError, match="do not make the recording announced"):
        ri.join(bad, {ri.chunk(on_bus(i)).index: i["data"] for i in bad_chunks})


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"data": "not base64!"}, "data is not base64"),
        ({"data": ""}, "0 bytes"),
        ({"data": base64.b64encode(b"x" * (4 * 1024 * 1024 + 1)).decode()}, "bytes \\(1 to"),
        ({"@id": "other"}, "@id <recording>:<sha256>:<index>"),
        ({"@type": "recording"}, "@type is recording.chunk"),
        ({"sha256": "abc"}, "64 hex digits"),
        ({"index": "two"}, "index is not a number"),
        ({"@entry": ""}, "@entry"),
    ],
)
def test_a_malformed_chunk_says_what_is_wrong(change: dict, error: str) -> None:
    chunks, _summary = made.recording()
    with pytest.raises(ValueError, match=error):
        ri.chunk(dict(on_bus(chunks[0]), **change))


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"status": "lost"}, "unknown recording status"),
        ({"mimetype": "audio/wav"}, "is an MP3"),
        ({"name": "../x.mp3"}, "is an MP3"),
        ({"file": "../../etc/passwd.wav"}, "not a path inside"),
        ({"file": "/etc/x.wav"}, "not a path inside"),
        ({"chunks": "0"}, "announces its chunks"),
        ({"@type": "recording.chunk"}, "@type=recording"),
        ({"@id": "short"}, "sha256 key"),
        ({"duration": "long"}, "duration is not a number"),
    ],
)
def test_a_malformed_summary_says_what_is_wrong(change: dict, error: str) -> None:
    _chunks, summary = made.recording()
    with pytest.raises(ValueError, match=error):
        ri.summary(dict(on_bus(summary), **change))


def test_a_report_without_audio_must_say_why() -> None:
    _chunks, empty = made.recording(status="empty", reason="nobody spoke: a 44-byte WAV")
    values = ri.summary(on_bus(empty))
    assert (values["status"], values["sha256"], values["size"], values["name"]) == (
        "empty",
        "",
        0,
        "rec-1796104207.3.wav",
    )
    with pytest.raises(ValueError, match="says why"):
        ri.summary(dict(on_bus(empty), reason=""))


def test_a_file_in_a_subfolder_keeps_its_path_and_is_named_without_it() -> None:
    _chunks, summary = made.recording(file="2026/12/01/rec-1796104207.3.wav")
    values = ri.summary(on_bus(summary))
    assert (values["file"], values["name"]) == ("2026/12/01/rec-1796104207.3.wav", "rec-1796104207.3.mp3")

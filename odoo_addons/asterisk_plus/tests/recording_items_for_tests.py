"""A recording as the agent's recordings service puts it on the bus (docs/odoo-api.md, "Recordings"): chunks
of the MP3 in base64, then the summary. Plain Python: tests/odoo_module loads it by path too."""

from __future__ import annotations

import base64
import hashlib

# A few MPEG-1 layer III frames' worth of bytes: Odoo checks sizes and hashes, not the audio itself.
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 40


def recording(
    file: str = "rec-1796104207.3.wav",
    uniqueid: str = "1796104207.3",
    linkedid: str = "1796104207.0",
    mp3: bytes = MP3,
    chunk_bytes: int = 4096,
    sha256: str | None = None,
    status: str = "ok",
    reason: str = "",
) -> tuple[list[dict], dict]:
    """(chunk items, summary item) without `@entry`: the caller writes them onto the bus first."""
    base = file.rsplit("/", 1)[-1]  # the agent names the attachment after the file, without its folders
    key = hashlib.sha256(file.encode() + b"\0" + mp3 + status.encode()).hexdigest()
    sha = sha256 or hashlib.sha256(mp3).hexdigest()
    pieces = [mp3[i : i + chunk_bytes] for i in range(0, len(mp3), chunk_bytes)] if status == "ok" else []
    chunks = [
        {
            "@type": "recording.chunk",
            "@server": "asterisk1",
            "@id": f"{key}:{sha}:{index}",
            "recording": key,
            "sha256": sha,
            "index": str(index),
            "data": base64.b64encode(piece).decode(),
        }
        for index, piece in enumerate(pieces)
    ]
    summary = {
        "@type": "recording",
        "@server": "asterisk1",
        "@id": key,
        "@reply_to": "commands:recordings",
        "status": status,
        "reason": reason,
        "Uniqueid": uniqueid,
        "Linkedid": linkedid,
        "Channel": "Local/201@phone-devices-00000001;1",
        "file": file,
        "name": base[:-4] + ".mp3" if status == "ok" else base,
        "mimetype": "audio/mpeg" if status == "ok" else "",
        "sha256": sha if status == "ok" else "",
        "size": str(len(mp3)) if status == "ok" else "0",
        "chunks": str(len(pieces)) if status == "ok" else "",
        "duration": "12.500",
        "recorded_at": "2026-12-01T04:10:22.000000Z",
    }
    return chunks, summary

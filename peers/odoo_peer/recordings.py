"""`asterisk_plus.recording` as docs/odoo-api.md ("Recordings") asks of the module: chunks staged,
assembled and checked on the summary, one attachment per dedupe key, on the call found by Linkedid or by a
channel's Uniqueid (now, or when the call's events arrive later)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

MAX_CHUNK = 4 * 1024 * 1024
HEX64 = re.compile(r"^[0-9a-f]{64}$")
STATUSES = {"ok", "empty", "truncated", "invalid", "unsupported"}


def refusal(
    reject: Callable[[dict[str, Any]], str | None], item: dict[str, Any], seen: bool
) -> dict[str, str] | None:
    """The result for an item Odoo does not take: one it has already (`seen`: duplicate), one `reject` names
    an error for; None: the item is taken."""
    if seen:
        return {"status": "duplicate"}
    error = reject(item)
    return {"status": "error", "error": error} if error else None


@dataclass
class Recording:
    key: str
    status: str
    reason: str
    name: str
    mimetype: str
    sha256: str
    uniqueid: str
    linkedid: str
    file: str
    duration: float
    data: bytes | None  # None: a report (no audio), or not kept (keep_audio=False)
    item: dict[str, Any] = field(default_factory=dict)


class RecordingStore:
    def __init__(self, keep_audio: bool = True) -> None:
        self.keep_audio = keep_audio
        self.staged: dict[tuple[str, str, int], bytes] = {}  # (recording key, MP3 sha256, index)
        self.recordings: dict[str, Recording] = {}

        self.chunk_receipts: Counter[str] = Counter()  # every chunk item received, duplicates included
        self.summary_receipts: Counter[str] = Counter()
        self.reject: Callable[[dict[str, Any]], str | None] = lambda item: None

    def on_chunks(self, items: list[dict[str, Any]]) -> list[dict[str, str]]:
        results = []
        for item in items:
            self.chunk_receipts[str(item.get("@id"))] += 1
            try:
                key, sha, index, data = _chunk(item)
            except ValueError as exc:
                results.append({"status": "error", "error": str(exc)})
                continue
            if (key, sha, index) in self.staged or key in self.recordings:
                results.append({"status": "duplicate"})
                continue
            self.staged[(key, sha, index)] = data
            results.append({"status": "ok"})
        return results

    def on_recordings(self, items: list[dict[str, Any]]) -> list[dict[str, str]]:
        results = []
        for item in items:
            key = str(item.get("@id") or "")
            self.summary_receipts[key] += 1
            refused = refusal(self.reject, item, key in self.recordings)
            if refused:
                results.append(refused)
                continue
            try:
                recording = self._summary(key, item)
            except ValueError as exc:
                results.append({"status": "error", "error": str(exc)})
                continue
            self.recordings[key] = recording
            results.append({"status": "ok"})
        return results

    def _summary(self, key: str, item: dict[str, Any]) -> Recording:
        if not HEX64.match(key) or not item.get("@entry") or item.get("@type") != "recording":
            raise ValueError("a recording's summary needs @id (its sha256 key), @entry and @type=recording")
        status = item.get("status")
        if status not in STATUSES:
            raise ValueError(f"unknown recording status {status!r}")
        data = None
        sha = str(item.get("sha256") or "")
        if status == "ok":
            if item.get("mimetype") != "audio/mpeg" or not str(item.get("name", "")).endswith(".mp3"):
                raise ValueError("an ok recording is an MP3: mimetype audio/mpeg, a name ending in .mp3")
            chunks, size = _int(item, "chunks"), _int(item, "size")
            missing = [i for i in range(chunks) if (key, sha, i) not in self.staged]
            if missing or chunks < 1:
                raise ValueError(f"chunks missing for {sha[:12]}: {missing[:10] or 'none announced'}")
            data = b"".join(self.staged[(key, sha, i)] for i in range(chunks))
            if len(data) != size or hashlib.sha256(data).hexdigest() != sha:
                raise ValueError(
                    f"the chunks of {sha[:12]} do not make the recording announced (size, sha256)"
                )
            for i in range(chunks):
                del self.staged[(key, sha, i)]
        elif not item.get("reason"):
            raise ValueError(f"a {status} recording says why (reason)")
        kept = {k: v for k, v in item.items() if k != "data"}
        return Recording(
            key,
            status,
            str(item.get("reason") or ""),
            str(item.get("name") or ""),
            str(item.get("mimetype") or ""),
            sha,
            str(item.get("Uniqueid") or ""),
            str(item.get("Linkedid") or ""),
            str(item.get("file") or ""),
            float(item.get("duration") or 0),
            data if self.keep_audio else None,
            kept,
        )

    def call_of(self, recording: Recording, events: Iterable[dict[str, Any]]) -> str:
        """The Linkedid of the call a recording belongs to, from the call events so far ("" if none)."""
        for event in events:
            linked = str(event.get("Linkedid") or "")
            if recording.linkedid and linked == recording.linkedid:
                return linked
            if recording.uniqueid and recording.uniqueid in (
                event.get("Uniqueid"),
                event.get("DestUniqueid"),
            ):
                return str(
                    event.get("DestLinkedid") if event.get("DestUniqueid") == recording.uniqueid else linked
                )
        return ""


def _int(item: dict[str, Any], name: str) -> int:
    try:
        return int(item.get(name) or 0)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not a number") from exc


def _chunk(item: dict[str, Any]) -> tuple[str, str, int, bytes]:
    key, sha, index = str(item.get("recording") or ""), str(item.get("sha256") or ""), _int(item, "index")
    well_formed = HEX64.match(key) and HEX64.match(sha) and index >= 0 and item.get("@entry")
    if not well_formed or item.get("@id") != f"{key}:{sha}:{index}":
        raise ValueError("a chunk needs recording, sha256, index, @id = <recording>:<sha256>:<index>, @entry")
    try:
        data = base64.b64decode(str(item.get("data") or ""), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"chunk {index} of {sha[:12]}: data is not base64") from exc
    if not data or len(data) > MAX_CHUNK:
        raise ValueError(f"chunk {index} of {sha[:12]}: {len(data)} bytes (1 to {MAX_CHUNK})")
    return key, sha, index, data

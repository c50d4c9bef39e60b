"""What a recording's chunk and summary must hold (docs/odoo-api.md, "Recordings"), read from the items the
bridge delivers, before anything is stored.

Plain Python without Odoo imports (like call_state.py): tests/odoo_module loads it by path.
"""

import base64
import binascii
import hashlib
import re

MAX_CHUNK = 4 * 1024 * 1024
HEX64 = re.compile(r"^[0-9a-f]{64}$")
STATUSES = ("ok", "empty", "truncated", "invalid", "unsupported")
# A file name Asterisk wrote under the recordings directory: no parent, nothing absolute, nothing odd.
_FILE = re.compile(r"^(?!/)(?!.*(?:^|/)\.\.(?:/|$))[\w .@+=,;:/-]{1,255}$")

# The fields the bus entry must hold as the item says (models/bus.py on_bus): everything Odoo keeps.
CHUNK_FIELDS = ("@id", "@type", "recording", "sha256", "index", "data")
SUMMARY_FIELDS = (
    "@id",
    "@type",
    "status",
    "reason",
    "Uniqueid",
    "Linkedid",
    "Channel",
    "file",
    "name",
    "mimetype",
    "sha256",
    "size",
    "chunks",
    "duration",
    "recorded_at",
)


class Chunk:
    __slots__ = ("data", "index", "key", "sha256")

    def __init__(self, key, sha256, index, data):
        self.key, self.sha256, self.index, self.data = key, sha256, index, data


def number(item, name, kind=int):
    value = item.get(name)
    if value in (None, ""):
        return kind(0)
    try:
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not a number: {value!r}") from exc


def chunk(item):
    """The chunk an item holds (its data still base64, checked), or ValueError saying what is wrong."""
    key, sha, index = str(item.get("recording") or ""), str(item.get("sha256") or ""), number(item, "index")
    if not (HEX64.match(key) and HEX64.match(sha) and index >= 0 and item.get("@entry")):
        raise ValueError("a chunk needs recording, sha256 (64 hex digits), index and @entry")
    if item.get("@type") != "recording.chunk" or item.get("@id") != f"{key}:{sha}:{index}":
        raise ValueError("a chunk's @type is recording.chunk and its @id <recording>:<sha256>:<index>")
    data = str(item.get("data") or "")
    try:
        size = len(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"chunk {index} of {sha[:12]}: data is not base64") from exc
    if not 0 < size <= MAX_CHUNK:
        raise ValueError(f"chunk {index} of {sha[:12]}: {size} bytes (1 to {MAX_CHUNK})")
    return Chunk(key, sha, index, data)


def summary(item):
    """The values a summary item gives a recording, or ValueError saying what is wrong. For `ok`, the
    audio itself is checked by join()."""
    key = str(item.get("@id") or "")
    if not HEX64.match(key) or not item.get("@entry") or item.get("@type") != "recording":
        raise ValueError("a recording's summary needs @id (its sha256 key), @entry and @type=recording")
    status = item.get("status")
    if status not in STATUSES:
        raise ValueError(f"unknown recording status {status!r}")
    file = str(item.get("file") or "")
    if not _FILE.match(file):
        raise ValueError(f"file is not a path inside the recordings directory: {file!r}")
    name = str(item.get("name") or "") or file.rsplit("/", 1)[-1]
    values = {
        "key": key,
        "status": status,
        "reason": str(item.get("reason") or ""),
        "uniqueid": str(item.get("Uniqueid") or ""),
        "linkedid": str(item.get("Linkedid") or ""),
        "channel": str(item.get("Channel") or ""),
        "file": file,
        "name": name,
        "duration": number(item, "duration", float),
        "recorded_at": str(item.get("recorded_at") or ""),
        "sha256": "",
        "size": 0,
        "chunks": 0,
    }
    if status == "ok":
        if item.get("mimetype") != "audio/mpeg" or not name.endswith(".mp3") or "/" in name:
            raise ValueError("an ok recording is an MP3: mimetype audio/mpeg, a name ending in .mp3")
        sha = str(item.get("sha256") or "")
        if not HEX64.match(sha):
            raise ValueError("an ok recording's sha256 is 64 hex digits")
        values.update(sha256=sha, size=number(item, "size"), chunks=number(item, "chunks"))
        if values["chunks"] < 1 or values["size"] < 1:
            raise ValueError(f"an ok recording announces its chunks and size ({sha[:12]})")
    elif not values["reason"]:
        raise ValueError(f"a {status} recording says why (reason)")
    return values


def join(values, staged):
    """The MP3 from the staged chunks {index: base64}, or ValueError naming what is missing or wrong."""
    sha, count = values["sha256"], values["chunks"]
    missing = [i for i in range(count) if i not in staged]
    if missing:
        raise ValueError(f"chunks missing for {sha[:12]}: {missing[:10]}")
    data = b"".join(base64.b64decode(staged[i]) for i in range(count))
    if len(data) != values["size"] or hashlib.sha256(data).hexdigest() != sha:
        raise ValueError(
            f"the chunks of {sha[:12]} do not make the recording announced: {len(data)} bytes, "
            f"sha256 {hashlib.sha256(data).hexdigest()[:12]} (announced {values['size']} bytes, {sha[:12]})"
        )
    return data

"""AMI frames: ordered (name, value) pairs, CRLF lines, a blank line after each message.

Shared by the gateway (parsing what Asterisk sends) and the AMI peer (both directions). Repeated headers
(ChanVariable, Output) stay in order as separate pairs.
"""

from __future__ import annotations

from collections.abc import Iterable

Pairs = list[tuple[str, str]]
BANNER_PREFIX = b"Asterisk Call Manager/"


def encode(pairs: Iterable[tuple[str, str]]) -> bytes:
    """One AMI message; a value holding CR or LF would break the framing, so it is refused."""
    out = []
    for name, value in pairs:
        value = str(value)
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise ValueError(f"AMI header {name!r} holds a line break")
        out.append(f"{name}: {value}\r\n")
    out.append("\r\n")
    return "".join(out).encode()


def first(pairs: Pairs, name: str, default: str = "") -> str:
    lowered = name.lower()
    for key, value in pairs:
        if key.lower() == lowered:
            return value
    return default


class FrameParser:
    """Incremental parser: `feed(bytes)` returns the complete frames it now holds.

    Tolerates lone-LF line ends, frames split across reads, lines without `: ` (counted in `malformed`, the
    rest of the frame kept) and frames over `max_frame_bytes` (dropped whole, counted in `oversized`, the
    parser stays in step).
    """

    def __init__(self, max_frame_bytes: int = 1_048_576, expect_banner: bool = True) -> None:
        self.max_frame_bytes = max_frame_bytes
        self.banner: str | None = None
        self._expect_banner = expect_banner
        self._buf = b""
        self._skipping = False
        self.malformed = 0
        self.oversized = 0

    def feed(self, data: bytes) -> list[Pairs]:
        buf = self._buf + data if self._buf else data
        if self._expect_banner and self.banner is None:
            end = buf.find(b"\n")
            if end < 0:
                self._buf = buf
                return []
            if buf.startswith(BANNER_PREFIX):
                self.banner = buf[:end].decode("utf-8", "replace").strip()
                buf = buf[end + 1 :]
            else:
                self.banner = ""
        frames: list[Pairs] = []
        # CRLF is the rule; a lone LF is accepted too, so both are read as LF.
        buf = buf.replace(b"\r\n", b"\n")
        if b"\n\n" in buf:
            text_parts = buf.split(b"\n\n")
            rest = text_parts.pop()
            for raw in text_parts:
                if self._skipping:
                    # The tail of an oversized frame ends here.
                    self._skipping = False
                    continue
                if not raw.strip():
                    continue
                if len(raw) > self.max_frame_bytes:
                    self.oversized += 1
                    continue
                frames.append(self._parse(raw))
            buf = rest
        if len(buf) > self.max_frame_bytes:
            self.oversized += 1
            self._skipping = True
            buf = b""
        self._buf = buf
        return frames

    def _parse(self, raw: bytes) -> Pairs:
        pairs: Pairs = []
        for line in raw.decode("utf-8", "replace").split("\n"):
            name, sep, value = line.partition(": ")
            if sep:
                pairs.append((name, value))
            elif line.endswith(":") and " " not in line:
                pairs.append((line[:-1], ""))
            elif line.strip():
                self.malformed += 1
        return pairs

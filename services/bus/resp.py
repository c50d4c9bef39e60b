"""XADD commands packed in RESP by hand, for `Bus.publish_many`: the gateway's hot path.

redis-py's pipeline builds each argument of each command on its own (type checks, encoding, a bytes object
per argument) and spent most of the gateway's time there: it capped the gateway near 16,000 events/s
(docs/benchmarks.md, "ingest"). Packed here, each stream's `XADD key MAXLEN ~ n *` head is made once,
field names once per process, and a batch is one string encoded once: the gateway ingests 24,000 - 29,000
events/s on the same machine, about half of a bare pipelined XADD loop's ceiling. redis-py still sends the
bytes and reads the replies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

# Field names repeat from entry to entry (AMI header names): their RESP form is made once. Bounded, since a
# peer could send endless new names.
_NAME_BULKS: dict[str, str] = {}
NAME_BULKS_MAX = 4096


def blen(text: str) -> int:
    """The length of a text in bytes, as RESP counts it."""
    return len(text) if text.isascii() else len(text.encode())


def command(*args: str) -> str:
    """One command as a RESP array of bulk strings."""
    return f"*{len(args)}\r\n" + "".join(f"${blen(a)}\r\n{a}\r\n" for a in args)


class XaddPacker:
    """XADDs with `MAXLEN ~`, for streams named as the bus names them (`key`) and trimmed at `maxlen`."""

    def __init__(self, key: Callable[[str], str], maxlen: Callable[[str], int]) -> None:
        self.key = key
        self.maxlen = maxlen
        self._heads: dict[str, str] = {}

    def _head(self, stream: str) -> str:
        key, maxlen = self.key(stream), str(self.maxlen(stream))
        head = self._heads[stream] = (
            f"$4\r\nXADD\r\n${blen(key)}\r\n{key}\r\n$6\r\nMAXLEN\r\n$1\r\n~\r\n"
            f"${len(maxlen)}\r\n{maxlen}\r\n$1\r\n*\r\n"
        )
        return head

    def pack(
        self, items: Iterable[tuple[str, Mapping[str, str]]], parts: list[str], counts: dict[str, int]
    ) -> int:
        """Append one XADD per (stream, fields) item to `parts`, in order; returns how many.

        `counts` gains how many went to each stream (for the metrics).
        """
        heads = self._heads
        add = parts.append
        names = _NAME_BULKS
        count = 0
        for stream, fields in items:
            head = heads.get(stream) or self._head(stream)
            counts[stream] = counts.get(stream, 0) + 1
            add(f"*{6 + 2 * len(fields)}\r\n")
            add(head)
            for name, value in fields.items():
                name_bulk = names.get(name)
                if name_bulk is None:
                    name_bulk = f"${blen(name)}\r\n{name}\r\n"
                    if len(names) < NAME_BULKS_MAX:
                        names[name] = name_bulk
                add(name_bulk)
                # blen(value), inlined: this line runs for every field of every event.
                add(f"${len(value) if value.isascii() else len(value.encode())}\r\n{value}\r\n")
            count += 1
        return count

"""Batches of disjoint calls: a batch of events is cut into lanes that share no call, so the lanes can go to
Odoo side by side while each call's events stay in one lane, in their order."""

from __future__ import annotations

from collections import OrderedDict

from services.bus import Entry

# Pairs of headers naming a channel and its call, as Asterisk writes them in snapshots.
_SNAPSHOTS = (
    ("Uniqueid", "Linkedid"),
    ("DestUniqueid", "DestLinkedid"),
    ("LocalOneUniqueid", "LocalOneLinkedid"),
    ("LocalTwoUniqueid", "LocalTwoLinkedid"),
)
UNKNOWN = "<unknown>"


class CallKeys:
    """Which call an event belongs to: its Linkedid. A Cdr names only its channel's `UniqueID` and an
    OriginateResponse its `Uniqueid`: for those, the channel's Linkedid learnt from earlier events."""

    def __init__(self, remember: int = 100_000) -> None:
        self.remember = remember
        self._linked: OrderedDict[str, str] = OrderedDict()

    def key(self, entry: Entry) -> str:
        headers = entry.headers
        linked = ""
        for uid_name, linked_name in _SNAPSHOTS:
            value = headers.get(linked_name)
            if isinstance(value, str) and value:
                uid = headers.get(uid_name)
                if isinstance(uid, str) and uid:
                    self._learn(uid, value)
                linked = linked or value
        if linked:
            return linked
        for name in ("UniqueID", "Uniqueid"):
            uid = headers.get(name)
            if isinstance(uid, str) and uid and uid != UNKNOWN:
                return self._linked.get(uid, uid)
        return (
            ""  # not about a call (FullyBooted, a failed Originate): these keep their order among themselves
        )

    def _learn(self, uid: str, linked: str) -> None:
        self._linked[uid] = linked
        self._linked.move_to_end(uid)
        if len(self._linked) > self.remember:
            self._linked.popitem(last=False)


def split(keyed: list[tuple[str, Entry]], lanes: int) -> list[list[Entry]]:
    """At most `lanes` lists of the (call key, entry) pairs' entries, no call in two of them, each in stream
    order, sizes balanced."""
    by_call: dict[str, list[int]] = {}
    for at, (key, _entry) in enumerate(keyed):
        by_call.setdefault(key, []).append(at)
    if lanes <= 1 or len(by_call) <= 1:
        return [[entry for _key, entry in keyed]] if keyed else []
    count = min(lanes, len(by_call))
    positions: list[list[int]] = [[] for _ in range(count)]
    sizes = [0] * count
    # The biggest calls first, each to the emptiest lane: lanes end up about the same size.
    for group in sorted(by_call.values(), key=len, reverse=True):
        lane = sizes.index(min(sizes))
        positions[lane] += group
        sizes[lane] += len(group)
    return [[keyed[at][1] for at in sorted(lane)] for lane in positions]

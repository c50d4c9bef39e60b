"""The guard writes its state to Redis as text built directly (for speed): what json.dumps would write."""

from __future__ import annotations

import copy
import json
from dataclasses import asdict

from hypothesis import given
from hypothesis import strategies as st

from services.guard.guard import BanRecord
from services.guard.rules import CHALLENGE, SUCCESS, Rules, RulesConfig

times = st.floats(allow_nan=False, allow_infinity=False, min_value=0, max_value=4e9)


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


@given(st.lists(st.tuples(st.sampled_from(["InvalidPassword", CHALLENGE, SUCCESS]), times), max_size=30))
def test_saved_windows_are_the_json_of_take_dirty(events: list[tuple[str, float]]) -> None:
    rules = Rules(RulesConfig(maxretry=10**6, scanner_challenges=10**6, flood_rate=10**6))
    for i, (event, at) in enumerate(events):
        rules.feed(event, f"IPV4/UDP/198.51.100.{i % 3}/5060", at)
    rules.feed("InvalidPassword", "IPV4/UDP/192.0.2.1/5060", 1.0)
    rules.sources["192.0.2.1"].known_until = float("inf")  # not a time, but must still be JSON if it happens
    rules.dirty.add("192.0.2.2")  # gone: deleted from Redis
    twin = copy.deepcopy(rules)
    expected = {a: None if s is None else _compact(s) for a, s in twin.take_dirty().items()}
    written = rules.take_dirty_json()
    assert written == expected
    for address, text in written.items():
        if text is not None:
            again = Rules(RulesConfig())
            again.load_source(address, json.loads(text))
            again.dirty.add(address)
            assert _compact(again.take_dirty()[address]) == text


@given(
    st.text(),
    st.text(),
    st.one_of(st.integers(0, 10**6), st.booleans()),
    st.one_of(times, st.integers(0, 10**10), st.just(float("inf"))),
    st.text(),
)
def test_ban_records_are_stored_as_json_dumps_of_the_record(
    reason: str, source: str, count: int, until: float, entry: str
) -> None:
    record = BanRecord("2001:db8::7", reason, count, until, 3, 1_700_000_000.25, source, entry)
    assert record.json() == _compact(asdict(record))
    assert BanRecord(**json.loads(record.json())) == record

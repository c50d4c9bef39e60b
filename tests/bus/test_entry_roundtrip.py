from __future__ import annotations

import pytest

from services.bus import Entry, decode, encode, encode_pairs


def test_repeated_headers_survive_the_round_trip() -> None:
    pairs = [
        ("Event", "Newchannel"),
        ("ChanVariable", "A=1"),
        ("Channel", "PJSIP/101"),
        ("ChanVariable", "B=2"),
        ("ChanVariable", "C="),
    ]
    fields = encode_pairs(pairs, {"@type": "event"})
    assert fields == {
        "@type": "event",
        "Event": "Newchannel",
        "ChanVariable": "A=1",
        "Channel": "PJSIP/101",
        "ChanVariable#2": "B=2",
        "ChanVariable#3": "C=",
    }
    headers, meta = decode(fields)
    assert headers["ChanVariable"] == ["A=1", "B=2", "C="]
    assert headers["Channel"] == "PJSIP/101"
    assert meta == {"type": "event"}


def test_envelope_fields_cannot_clash_with_headers() -> None:
    fields = encode({"Event": "Hangup", "server": "not-the-envelope"}, type="event", server="asterisk1")
    headers, meta = decode(fields)
    assert headers["server"] == "not-the-envelope"
    assert meta["server"] == "asterisk1"


@pytest.mark.parametrize("name", ["@type", "Bad#1", ""])
def test_header_names_that_would_clash_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        encode({name: "x"})


def test_encode_lists_and_non_strings() -> None:
    fields = encode({"Output": ["line 1", "line 2"], "Count": 3, "Flag": True, "Empty": None})
    assert fields == {"Output": "line 1", "Output#2": "line 2", "Count": "3", "Flag": "1", "Empty": ""}


def test_entry_reads_headers_case_insensitively_and_builds_odoo_items() -> None:
    entry = Entry.from_fields("events", "1-0", encode({"CallerIDNum": "101"}, type="event", id="s:1"))
    assert entry.get("calleridnum") == "101"
    assert entry.type == "event" and entry.msg_id == "s:1"
    assert entry.as_item() == {"@type": "event", "@id": "s:1", "CallerIDNum": "101", "@entry": "1-0"}
    assert Entry.from_fields("events", "1-0", entry.fields()).headers == entry.headers


def test_a_header_named_like_a_repeat_without_its_first_stays_itself() -> None:
    headers, _ = decode({"Name#2": "x"})
    assert headers == {"Name#2": "x"}

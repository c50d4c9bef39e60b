from __future__ import annotations

import pytest

from services.ami.codec import FrameParser, encode, first

EVENT = [
    ("Event", "Newchannel"),
    ("Channel", "PJSIP/101-1"),
    ("ChanVariable", "A=1"),
    ("ChanVariable", "B=2"),
]


def test_frames_split_anywhere_across_reads_come_out_whole() -> None:
    data = b"Asterisk Call Manager/11.0.0\r\n" + encode(EVENT) * 3
    for cut in range(1, len(data)):
        parser = FrameParser()
        frames = parser.feed(data[:cut]) + parser.feed(data[cut:])
        assert frames == [EVENT] * 3, cut
        assert parser.banner == "Asterisk Call Manager/11.0.0"


def test_lone_lf_line_ends_are_accepted() -> None:
    parser = FrameParser(expect_banner=False)
    assert parser.feed(b"Event: X\nA: 1\n\n") == [[("Event", "X"), ("A", "1")]]


def test_a_line_without_colon_is_counted_and_the_rest_of_the_frame_kept() -> None:
    parser = FrameParser(expect_banner=False)
    assert parser.feed(b"garbage here\r\nEvent: Y\r\nEmpty:\r\nBlank: \r\n\r\n") == [
        [("Event", "Y"), ("Empty", ""), ("Blank", "")]
    ]
    assert parser.malformed == 1


def test_an_oversized_frame_is_dropped_and_the_parser_stays_in_step() -> None:
    parser = FrameParser(max_frame_bytes=100, expect_banner=False)
    frames = parser.feed(b"Event: Big\r\nV: " + b"x" * 500)
    frames += parser.feed(b"x" * 500 + b"\r\n\r\nEvent: Next\r\n\r\n")
    assert frames == [[("Event", "Next")]] and parser.oversized == 1


def test_undecodable_bytes_are_replaced_not_fatal() -> None:
    parser = FrameParser(expect_banner=False)
    ((pair,),) = parser.feed(b"CallerIDName: Jos\xe9\r\n\r\n")
    assert pair == ("CallerIDName", "Jos\ufffd")


def test_encoding_refuses_line_breaks_in_values() -> None:
    with pytest.raises(ValueError):
        encode([("Command", "core show version\r\nAction: Logoff")])
    assert first(EVENT, "chanvariable") == "A=1"

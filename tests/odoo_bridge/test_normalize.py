from __future__ import annotations

import pytest

from services.odoo_bridge.normalize import enrich, local_to_utc, to_e164


@pytest.mark.parametrize(
    ("number", "country", "e164"),
    [
        ("0470 12 34 56", "BE", "+32470123456"),  # national with trunk prefix
        ("470123456", "BE", "+32470123456"),  # without trunk prefix
        ("+32 2 234 56 78", "FR", "+3222345678"),  # international, whatever the country
        ("0032 2 234 56 78", "BE", "+3222345678"),  # 00-prefixed
        ("0033123456789", "BE", "+33123456789"),
        ("0612345678", "FR", "+33612345678"),
        ("(212) 555-0100", "US", "+12125550100"),
        ("212-555-0100", "US", "+12125550100"),
        ("011 44 20 7946 0958", "US", "+442079460958"),  # the US international prefix
        ("020 7946 0958", "GB", "+442079460958"),
        ("030 1234567", "DE", "+49301234567"),
        ("8 495 123-45-67", "RU", "+74951234567"),  # Russia's trunk prefix 8
        ("11 91234-5678", "BR", "+5511912345678"),
        ("101", "BE", None),  # an extension stays as it is
        ("123456", "BE", None),
        ("<unknown>", "BE", None),
        ("", "BE", None),
        ("abc1234567", "BE", None),
    ],
)
def test_caller_ids_to_e164(number: str, country: str, e164: str | None) -> None:
    assert to_e164(number, country) == e164


@pytest.mark.parametrize(
    ("local", "tz", "utc"),
    [
        ("2026-07-01 12:00:00", "Europe/Brussels", "2026-07-01 10:00:00"),  # summer, UTC+2
        ("2026-11-24 12:00:00", "Europe/Brussels", "2026-11-24 11:00:00"),  # winter, UTC+1
        ("2026-03-29 01:59:59", "Europe/Brussels", "2026-03-29 00:59:59"),  # just before spring forward
        ("2026-03-29 03:00:00", "Europe/Brussels", "2026-03-29 01:00:00"),  # just after
        ("2026-03-29 02:30:00", "Europe/Brussels", "2026-03-29 01:30:00"),  # does not exist: standard time
        ("2026-10-25 02:30:00", "Europe/Brussels", "2026-10-25 01:30:00"),  # happens twice: the later one
        ("2026-11-01 01:30:00", "America/New_York", "2026-11-01 06:30:00"),  # US fall back, the later one
        ("2026-11-24 12:00:00", "UTC", "2026-11-24 12:00:00"),
        ("2026-11-24 12:00:00", "", "2026-11-24 12:00:00"),
        ("not a time", "UTC", None),
    ],
)
def test_local_times_to_utc_across_dst(local: str, tz: str, utc: str | None) -> None:
    assert local_to_utc(local, tz) == utc


def test_enrich_adds_e164_and_utc_and_keeps_the_originals() -> None:
    item = {
        "Event": "Cdr",
        "Source": "0470123456",
        "Destination": "101",
        "StartTime": "2026-07-01 12:00:00",
        "AnswerTime": "",
    }
    enrich(item, "BE", "Europe/Brussels")
    assert item["@e164"] == {"Source": "+32470123456"} and item["Source"] == "0470123456"
    assert item["@utc"] == {"StartTime": "2026-07-01 10:00:00"}


@pytest.mark.parametrize(
    ("item", "when"),
    [
        # A security event's EventTV, as Asterisk writes it.
        ({"EventTV": "2026-11-24T20:33:20.623+0000", "@at": "x"}, "2026-11-24T20:33:20.623000Z"),
        ({"EventTV": "2026-11-24T21:33:20.623+0100", "@at": "x"}, "2026-11-24T20:33:20.623000Z"),
        # `timestampevents=yes`: seconds since the epoch.
        ({"Timestamp": "1795552393.617283", "@at": "x"}, "2026-11-24T20:33:13.617283Z"),
        # Neither: when the gateway received it.
        ({"@at": "2026-11-24T20:33:21.000001Z"}, "2026-11-24T20:33:21.000001Z"),
        ({"EventTV": "garbage", "@at": "2026-11-24T20:33:21.000001Z"}, "2026-11-24T20:33:21.000001Z"),
    ],
)
def test_each_item_carries_its_own_time(item: dict, when: str) -> None:
    assert enrich(dict(item), "BE", "UTC")["@time"] == when

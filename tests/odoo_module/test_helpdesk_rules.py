"""Which of a caller's tickets the pop-up offers and how a ticket made from a call names the other party
(odoo_addons/asterisk_plus_helpdesk/helpdesk_rules.py)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from .module_files import MODULE, load

rules = load("helpdesk_rules", Path(MODULE).parent / "asterisk_plus_helpdesk" / "helpdesk_rules.py")

TICKETS = [
    {"id": 1, "closed": False, "last": "2026-12-01 09:00:00"},
    {"id": 2, "closed": True, "last": "2026-12-01 12:00:00"},
    {"id": 3, "closed": False, "last": "2026-12-01 11:00:00"},
    {"id": 4, "closed": False, "last": "2026-12-01 11:00:00"},
    {"id": 5, "closed": False, "last": "2026-12-01 10:00:00"},
]


@given(st.permutations(TICKETS))
def test_the_newest_three_open_tickets_the_most_recently_active_first(order: list[dict]) -> None:
    assert [t["id"] for t in rules.offered(order)] == [4, 3, 5]
    assert [t["id"] for t in rules.offered(order, limit=10)] == [4, 3, 5, 1]


def test_closed_tickets_or_none_offer_nothing() -> None:
    assert rules.offered([{"id": 2, "closed": True, "last": ""}]) == []
    assert rules.offered([]) == []


def test_the_other_party_is_named_with_its_number() -> None:
    assert rules.other_party("in", "+32470123456", "100", "Jane Doe") == "Jane Doe (+32470123456)"
    assert rules.other_party("out", "102", "+3225551234") == "+3225551234"
    assert rules.other_party("in", "", "100") == "?"
    assert rules.other_party("in", "+32470123456", "100", "+32470123456") == "+32470123456"

"""Which record a number stands for when several have it (odoo_addons/asterisk_plus/lookup_rules.py): the
contact over its company, then the most recent call, then the lowest id, whatever order they were found in."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

MODULE = Path(__file__).resolve().parents[2] / "odoo_addons" / "asterisk_plus"
_spec = importlib.util.spec_from_file_location("asterisk_plus_lookup_rules", MODULE / "lookup_rules.py")
rules = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rules)


def partner(pid: int, company: bool = False) -> dict:
    return {"model": "res.partner", "id": pid, "partner_id": pid, "rank": rules.partner_rank(company)}


ACME, JANE, JOHN = partner(3, company=True), partner(7), partner(9)


@given(st.permutations([ACME, JANE, JOHN]))
def test_the_contact_comes_before_its_company_and_the_lowest_id_breaks_a_tie(order: list) -> None:
    assert rules.best(order) == JANE


@given(st.permutations([ACME, JANE, JOHN]))
def test_the_most_recent_call_decides_between_contacts(order: list) -> None:
    recent = {7: "2026-11-30T10:00:00", 9: "2026-12-01T09:00:00", 3: "2026-12-01T11:00:00"}
    assert rules.best(order, recent) == JOHN  # the company's later call does not beat a contact


def test_a_record_of_another_module_with_a_better_rank_wins_and_nothing_is_none() -> None:
    lead = {"model": "crm.lead", "id": 1, "partner_id": False, "rank": 5}
    assert rules.best([ACME, JANE, lead]) == lead
    assert rules.best([]) is None
    assert rules.tied([ACME, JANE, JOHN]) == [JANE, JOHN]


def test_the_desk_phone_shows_the_name_and_the_company() -> None:
    assert rules.label("Jane Doe", "Acme") == "Jane Doe (Acme)"
    assert rules.label("Acme", "Acme") == "Acme"
    assert rules.label(" Jane ", "") == "Jane"
    assert rules.label("", "Acme") == "Acme"

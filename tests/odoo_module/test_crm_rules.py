"""Where leads stand in the lookup and which missed calls make a lead (odoo_addons/asterisk_plus_crm/
crm_rules.py), with asterisk_plus's own rules (lookup_rules.py) deciding between contacts and leads."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from .module_files import MODULE, load

crm = load("crm_rules", Path(MODULE).parent / "asterisk_plus_crm" / "crm_rules.py")
rules = load("lookup_rules")

JANE = {"model": "res.partner", "id": 7, "partner_id": 7, "rank": rules.partner_rank(False)}
ACME = {"model": "res.partner", "id": 3, "partner_id": 3, "rank": rules.partner_rank(True)}


def lead(order: str, lead_id: int = 40) -> dict:
    return {"model": "crm.lead", "id": lead_id, "partner_id": None, "rank": crm.lead_rank(order)}


@given(st.permutations([0, 1, 2]))
def test_contacts_first_puts_a_lead_after_a_contact_and_its_company(order: list[int]) -> None:
    candidates = [[JANE, ACME, lead(crm.PARTNERS_FIRST)][i] for i in order]
    assert rules.best(candidates) == JANE
    assert rules.best([c for c in candidates if c is not JANE]) == ACME
    assert rules.best([lead(crm.PARTNERS_FIRST)])["model"] == "crm.lead"


@given(st.permutations([0, 1, 2]))
def test_leads_first_puts_a_lead_before_a_contact(order: list[int]) -> None:
    candidates = [[JANE, ACME, lead(crm.LEADS_FIRST)][i] for i in order]
    assert rules.best(candidates)["model"] == "crm.lead"


def test_contacts_only_leaves_leads_out_and_an_unknown_order_is_contacts_first() -> None:
    assert crm.lead_rank(crm.PARTNERS_ONLY) is None
    assert crm.lead_rank("nonsense") == crm.lead_rank(crm.PARTNERS_FIRST)
    assert crm.DEFAULT_ORDER in {key for key, _label in crm.ORDERS}
    assert {key for key, _label in crm.ORDERS} == {crm.PARTNERS_FIRST, crm.LEADS_FIRST, crm.PARTNERS_ONLY}


@given(st.permutations([0, 1, 2, 3]))
def test_an_opportunity_comes_before_a_lead_then_the_newest(order: list[int]) -> None:
    leads = [
        {"id": 5, "type": "lead"},
        {"id": 9, "type": "lead"},
        {"id": 6, "type": "opportunity"},
        {"id": 8, "type": "opportunity"},
    ]
    shuffled = [leads[i] for i in order]
    assert crm.best_lead(shuffled) == {"id": 8, "type": "opportunity"}
    assert crm.best_lead([x for x in shuffled if x["type"] == "lead"]) == {"id": 9, "type": "lead"}
    assert crm.best_lead([]) is None


def test_a_lead_is_known_by_its_contact_else_its_partner_else_its_title() -> None:
    assert crm.lead_name("John Smith", "Acme", "Deal") == "John Smith"
    assert crm.lead_name(" ", "Acme", "Deal") == "Acme"
    assert crm.lead_name(False, None, "Deal ") == "Deal"
    assert crm.lead_name(False, False, False) == ""


def test_only_incoming_calls_from_unknown_e164_numbers_make_a_lead_one_per_number() -> None:
    def call(cid: int, caller: str, direction: str = "in", partner: int = 0, lead_id: int = 0) -> dict:
        return {
            "id": cid,
            "direction": direction,
            "caller": caller,
            "partner_id": partner,
            "lead_id": lead_id,
        }

    calls = [
        call(4, "+32470123456"),
        call(2, "+32470123456"),
        call(3, "+32470654321"),
        call(5, "201"),  # an extension
        call(6, "+32470111111", direction="out"),
        call(7, "+32470222222", partner=9),
        call(8, "+32470333333", lead_id=4),
        call(9, ""),
    ]
    assert crm.missed_numbers(calls) == {"+32470123456": [2, 4], "+32470654321": [3]}
    assert crm.missed_numbers([]) == {}

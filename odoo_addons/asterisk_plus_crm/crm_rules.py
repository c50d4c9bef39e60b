"""Where leads stand in the number lookup, which lead a number stands for, and which missed calls make a
lead.

Plain Python without Odoo imports (like asterisk_plus's lookup_rules.py): tests/odoo_module loads it by path.
asterisk_plus ranks a contact 10 and a company 20, the lower rank winning; a lead takes a rank below or
above those, as the setting says.
"""

PARTNERS_FIRST = "partners_first"
LEADS_FIRST = "leads_first"
PARTNERS_ONLY = "partners_only"
ORDERS = [
    (PARTNERS_FIRST, "Contacts first, then leads and opportunities"),
    (LEADS_FIRST, "Leads and opportunities first, then contacts"),
    (PARTNERS_ONLY, "Contacts only"),
]
DEFAULT_ORDER = PARTNERS_FIRST

BEFORE_PARTNERS = 5  # below a contact's 10
AFTER_PARTNERS = 30  # above a company's 20


def lead_rank(order):
    """The rank of a lead in the lookup, or None when leads are not looked up."""
    if order == PARTNERS_ONLY:
        return None
    return BEFORE_PARTNERS if order == LEADS_FIRST else AFTER_PARTNERS


def best_lead(leads):
    """The lead a number stands for among the open leads that have it (dicts with "id" and "type"): an
    opportunity before a lead, then the newest (the highest id); None when there is none."""
    if not leads:
        return None
    return min(leads, key=lambda lead: (lead["type"] != "opportunity", -lead["id"]))


def lead_name(contact_name, partner_name, title):
    """The name a lead is known by on a phone: its contact, else its partner, else its title."""
    for name in (contact_name, partner_name, title):
        if name and name.strip():
            return name.strip()
    return ""


def missed_numbers(calls):
    """{caller number: [call id]} of the missed calls that may make a lead: incoming, from an E.164 number,
    and not linked to a partner or a lead. `calls`: dicts {"id", "direction", "caller", "partner_id",
    "lead_id"}."""
    out = {}
    for call in sorted(calls, key=lambda c: c["id"]):
        number = call.get("caller") or ""
        if call.get("direction") != "in" or not number.startswith("+"):
            continue
        if call.get("partner_id") or call.get("lead_id"):
            continue
        out.setdefault(number, []).append(call["id"])
    return out

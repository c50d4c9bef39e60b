"""Which record a phone number stands for when several records have it.

Plain Python without Odoo imports (like call_state.py): tests/odoo_module loads it by path. A candidate is a
dict {"model", "id", "partner_id", "rank"}: the lower rank wins (a contact 10 before a company 20; other
modules give their records a rank of their own), then the candidate whose partner had the most recent call,
then the lowest model name and id, so the answer never depends on the order the candidates were found in.
"""

CONTACT = 10
COMPANY = 20


def partner_rank(is_company):
    return COMPANY if is_company else CONTACT


def tied(candidates):
    """The candidates that share the best rank (more than one: the most recent call decides)."""
    if not candidates:
        return []
    top = min(c["rank"] for c in candidates)
    return [c for c in candidates if c["rank"] == top]


def best(candidates, recent=None):
    """The candidate a number stands for, or None. `recent`: {partner id: its last call's time (sortable)}."""
    first = tied(candidates)
    if not first:
        return None
    recent = recent or {}
    latest = max((recent.get(c.get("partner_id")) or "" for c in first), default="")
    if latest:
        first = [c for c in first if (recent.get(c.get("partner_id")) or "") == latest]
    return min(first, key=lambda c: (c["model"], c["id"]))


def label(name, company=""):
    """What a desk phone shows: `Jane Doe (Acme)`, or the name alone."""
    name = (name or "").strip()
    company = (company or "").strip()
    if company and company != name:
        return f"{name} ({company})" if name else company
    return name

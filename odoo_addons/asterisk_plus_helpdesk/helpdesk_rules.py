"""Which of a caller's tickets the pop-up offers, and what a ticket made from a call says.

Plain Python without Odoo imports (like asterisk_plus's lookup_rules.py): tests/odoo_module loads it by path.
"""

SHOWN = 3  # the pop-up offers at most this many open tickets: the newest


def offered(tickets, limit=SHOWN):
    """The open tickets the pop-up offers: dicts {"id", "closed", "last"} (`last`: when the ticket last
    changed stage, sortable text), the most recently active first, then the highest id."""
    open_ = [t for t in tickets if not t.get("closed")]
    return sorted(open_, key=lambda t: (t.get("last") or "", t["id"]), reverse=True)[:limit]


def other_party(direction, caller, called, who=""):
    """The other party of a call as a ticket's title names it: `Jane Doe (+32470123456)`, or the number."""
    number = (caller if direction == "in" else called) or "?"
    return f"{who} ({number})" if who and who != number else number

"""Helpers shared by the module's tests."""

import json


def last_bus_id(env):
    """The last stored bus id, once pending notifications are stored (Odoo 18 stores them before commit)."""
    env.cr.flush()
    return env["bus.bus"].sudo().search([], order="id desc", limit=1).id or 0


def notifications(env, user, since, kind=None):
    """The bus notifications to the user stored after bus id `since` (of that type only, if given)."""
    env.cr.flush()
    found = env["bus.bus"].sudo().search([("id", ">", since)], order="id")
    return [
        json.loads(n.message)["payload"]
        for n in found
        if json.loads(n.channel)[1:] == ["res.partner", user.partner_id.id]
        and (kind is None or json.loads(n.message)["type"] == kind)
    ]


def forget_existing_numbers(env):
    """The tests' numbers are the real flows' (+32470123456...): partners of a database in use may have them
    too. Their E.164 columns are emptied for the test (rolled back with it) and the lookup's cache cleared."""
    env.flush_all()
    env.cr.execute(
        "UPDATE res_partner SET phone_e164 = NULL, mobile_e164 = NULL "
        "WHERE phone_e164 IS NOT NULL OR mobile_e164 IS NOT NULL"
    )
    env["res.partner"].invalidate_model(["phone_e164", "mobile_e164"])
    env.registry.clear_cache()

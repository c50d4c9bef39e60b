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

"""Helpers shared by the module's tests."""

import json


def last_bus_id(env):
    return env["bus.bus"].sudo().search([], order="id desc", limit=1).id or 0


def notifications(env, user, since):
    """Bus notifications to the user since bus id `since`: the stored ones (Odoo 17 stores them at once)
    and the ones Odoo 18 keeps for its pre-commit hook."""
    pending = [(v["channel"], v["message"]) for v in env.cr.precommit.data.get("bus.bus.values", [])]
    stored = [(n.channel, n.message) for n in env["bus.bus"].sudo().search([("id", ">", since)])]
    return [
        json.loads(message)["payload"]
        for channel, message in stored + pending
        if json.loads(channel)[1:] == ["res.partner", user.partner_id.id]
    ]

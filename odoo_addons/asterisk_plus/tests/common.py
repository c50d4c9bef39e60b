"""Helpers shared by the module's tests."""

import json
import socket

from odoo.tests import TransactionCase
from odoo.tools.translate import code_translations


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


def code_terms(case, lang, translations):
    """`lang` active and these translations of the module's code terms in it, as a loaded i18n/<lang>.po
    would give (the module ships only the template): the language is rolled back with the test, the terms
    restored after it."""
    case.env["res.lang"]._activate_lang(lang)
    key = ("asterisk_plus", lang)
    saved = code_translations.python_translations.get(key)
    code_translations.python_translations[key] = translations
    if saved is None:
        case.addCleanup(code_translations.python_translations.pop, key, None)
    else:
        case.addCleanup(code_translations.python_translations.__setitem__, key, saved)


def free_port():
    """A local port nothing listens on (a Redis that is not there)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pbx_user(env, user, server, extension, phones, **settings):
    """`user` made an Asterisk user of `server` at `extension`, with these phones (channel names, or values of
    asterisk_plus.user.channel) and any other asterisk_plus.user values given."""
    channels = [(0, 0, {"name": phone} if isinstance(phone, str) else phone) for phone in phones]
    values = {"user_id": user.id, "extension": extension, "server_id": server.id, "channel_ids": channels}
    env["asterisk_plus.user"].create(dict(values, **settings))
    return user


class ServerCase(TransactionCase):
    """The module's demo server (asterisk1) and its system account, the one the bridge calls Odoo as."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = cls.env.ref("asterisk_plus.server_asterisk1")
        cls.system = cls.env.ref("asterisk_plus.user_asterisk1")

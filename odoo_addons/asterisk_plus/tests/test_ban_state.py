"""A ban's state is what is true now: Active until its Until, Expired after it (the guard lets the address in
by itself and sends no unban), Lifted once unbanned; the list's filters search it."""

from datetime import timedelta

from odoo import fields
from odoo.tests import TransactionCase, tagged
from odoo.tools.safe_eval import safe_eval


@tagged("post_install", "-at_install")
class TestBanState(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = cls.env.ref("asterisk_plus.server_asterisk1")
        bans = cls.env["asterisk_plus.ban"].with_context(active_test=False)
        bans.search([("server_id", "=", cls.server.id)]).unlink()  # a database in use
        now = fields.Datetime.now()
        cls.running = bans.create(
            {"address": "203.0.113.1", "server_id": cls.server.id, "until": now + timedelta(hours=1)}
        )
        cls.permanent = bans.create({"address": "203.0.113.2", "server_id": cls.server.id, "until": False})
        cls.past = bans.create(
            {"address": "203.0.113.3", "server_id": cls.server.id, "until": now - timedelta(minutes=5)}
        )
        cls.lifted = bans.create(
            {
                "address": "203.0.113.4",
                "server_id": cls.server.id,
                "until": now + timedelta(hours=1),
                "active": False,
            }
        )

    def found(self, domain):
        bans = self.env["asterisk_plus.ban"].with_context(active_test=False)
        return bans.search([("server_id", "=", self.server.id)] + domain)

    def test_the_state_follows_until_and_the_unban(self):
        self.assertEqual(
            [b.state for b in (self.running, self.permanent, self.past, self.lifted)],
            ["active", "active", "expired", "lifted"],
        )

    def test_the_state_is_searchable(self):
        self.assertEqual(self.found([("state", "=", "active")]), self.running | self.permanent)
        self.assertEqual(self.found([("state", "=", "expired")]), self.past)
        self.assertEqual(self.found([("state", "=", "lifted")]), self.lifted)
        self.assertEqual(self.found([("state", "in", ["expired", "lifted"])]), self.past | self.lifted)
        self.assertEqual(self.found([("state", "!=", "active")]), self.past | self.lifted)

    def test_the_bans_menu_shows_the_active_ones_and_finds_the_lifted_ones(self):
        action = self.env.ref("asterisk_plus.ban_action")
        context = safe_eval(action.context)
        self.assertEqual(context, {"active_test": False, "search_default_state_active": 1})
        # With the menu's context, the Lifted filter finds the archived (unbanned) ones.
        bans = self.env["asterisk_plus.ban"].with_context(**context)
        self.assertEqual(
            bans.search([("server_id", "=", self.server.id), ("state", "=", "lifted")]), self.lifted
        )

    def test_a_ban_the_guard_sends_with_a_past_until_is_expired_at_once(self):
        system = self.env.ref("asterisk_plus.user_asterisk1")
        bans = self.env(user=system)["asterisk_plus.ban"]
        until = (fields.Datetime.now() - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        [result] = bans.bridge_on_bans(
            "asterisk1",
            [{"@type": "guard.ban", "address": "198.51.100.9", "reason": "scan", "count": 5, "until": until}],
        )
        self.assertEqual(result["status"], "ok")
        self.assertEqual(self.found([("address", "=", "198.51.100.9")]).state, "expired")

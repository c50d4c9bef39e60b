from odoo import release
from odoo.exceptions import AccessDenied, AccessError, ValidationError
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestAsteriskPlus(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = cls.env.ref("asterisk_plus.server_asterisk1")
        cls.server.write({"country_id": cls.env.ref("base.be").id, "tz": "Europe/Brussels"})
        cls.system = cls.env.ref("asterisk_plus.user_asterisk1")
        cls.as_system = cls.env(user=cls.system)

    def test_system_account_is_a_portal_user(self):
        self.assertEqual(self.system.login, "asterisk1")
        self.assertTrue(self.system.has_group("base.group_portal"))
        self.assertFalse(self.system.has_group("base.group_user"))

    def test_bridge_methods_refuse_other_portal_users(self):
        other = self.env["res.users"].create(
            {
                "name": "Someone",
                "login": "someone",
                "groups_id": [(6, 0, [self.env.ref("base.group_portal").id])],
            }
        )
        with self.assertRaises(AccessError):
            self.env(user=other)["asterisk_plus.server"].bridge_get_config("asterisk1")
        config = self.as_system["asterisk_plus.server"].bridge_get_config("asterisk1")
        self.assertEqual(config["country_code"], "BE")
        self.assertEqual(
            {m["event"] for m in config["events_map"]},
            {
                "Newchannel",
                "Newstate",
                "DialBegin",
                "DialEnd",
                "BridgeEnter",
                "Hangup",
                "Cdr",
                "OriginateResponse",
                "QueueCallerJoin",
                "QueueCallerAbandon",
                "AgentCalled",
                "AgentConnect",
                "UserEvent",  # OdooExecute, for the developer API
            },
        )

    def test_bridge_config_tells_the_module_version_and_the_console_url(self):
        # What `pbx doctor` checks; the system account (portal) cannot read ir.module.module itself.
        self.server.console_url = "https://pbx.example.com/console"
        config = self.as_system["asterisk_plus.server"].bridge_get_config("asterisk1")
        module = self.env["ir.module.module"].search([("name", "=", "asterisk_plus")])
        self.assertEqual(config["module_version"], module.latest_version)
        self.assertTrue(config["module_version"])
        self.assertEqual(config["console_url"], "https://pbx.example.com/console")

    def test_event_map_validation(self):
        with self.assertRaises(ValidationError):
            self.env["asterisk_plus.event_map"].create(
                {"event": "X", "model": "asterisk_plus.call", "method": "_apply"}
            )
        with self.assertRaises(ValidationError):
            self.env["asterisk_plus.event_map"].create(
                {
                    "event": "X",
                    "condition_ids": [(0, 0, {"header": "Channel", "op": "matches", "value": "(["})],
                }
            )

    def test_bans_and_access_list(self):
        bans = self.as_system["asterisk_plus.ban"]
        bans.bridge_on_bans(
            "asterisk1",
            [
                {
                    "@type": "guard.ban",
                    "address": "203.0.113.7",
                    "reason": "5 failures",
                    "count": "5",
                    "until": "2026-11-24T21:00:00.000000Z",
                }
            ],
        )
        ban = self.env["asterisk_plus.ban"].search([("address", "=", "203.0.113.7")])
        self.assertEqual((ban.count, str(ban.until)), (5, "2026-11-24 21:00:00"))
        bans.bridge_on_bans("asterisk1", [{"@type": "guard.unban", "address": "203.0.113.7"}])
        self.assertFalse(ban.active)
        with self.assertRaises(ValidationError):
            self.env["asterisk_plus.access_list"].create(
                {"address": "not-an-ip", "server_id": self.server.id}
            )

    def test_password_field_sets_the_system_accounts_password(self):
        self.server.password = "n3w-secret"
        # Raises AccessDenied unless the system account's password is now the new one.
        # Odoo 18 takes a credential dict, Odoo 17 the password itself.
        credential = "n3w-secret"
        if release.version_info[0] >= 18:
            credential = {"type": "password", "password": "n3w-secret"}
        self.system.with_user(self.system)._check_credentials(credential, {"interactive": False})
        with self.assertRaises(AccessDenied):
            wrong = (
                "asterisk1" if release.version_info[0] < 18 else {"type": "password", "password": "asterisk1"}
            )
            self.system.with_user(self.system)._check_credentials(wrong, {"interactive": False})

    def test_every_window_action_of_the_module_opens_its_views(self):
        """The views load in the running Odoo: `list` on 18, `tree` (translated at install) on 17."""
        list_type = "list" if release.version_info[0] >= 18 else "tree"
        data = self.env["ir.model.data"].search(
            [("module", "=", "asterisk_plus"), ("model", "=", "ir.actions.act_window")]
        )
        self.assertGreaterEqual(len(data), 8)
        for action in self.env["ir.actions.act_window"].browse(data.mapped("res_id")):
            modes = action.view_mode.split(",")
            with self.subTest(action=action.name):
                self.assertNotIn("list" if list_type == "tree" else "tree", modes)
                views = self.env[action.res_model].get_views(
                    [(False, mode) for mode in modes] + [(False, "search")]
                )["views"]
                self.assertTrue(views["search"]["arch"].startswith("<search"))
                for mode in modes:
                    arch = views[mode]["arch"]
                    self.assertTrue(
                        arch.startswith(f"<{list_type if mode == list_type else mode}"), arch[:40]
                    )

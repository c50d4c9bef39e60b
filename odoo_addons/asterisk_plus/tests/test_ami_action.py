"""`server.ami_action(action, callback=(model, method), pass_back=...)` in a real Odoo (docs/odoo-api.md, "The
developer API"): the action goes onto the bus after commit with `@reply_to=odoo_replies`, and the gateway's
answer, delivered by the bridge, reaches the callback once, as the user who asked; past the deadline the
callback hears of a timeout instead."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .developer_common import DeveloperCase


@tagged("post_install", "-at_install")
class TestAmiAction(DeveloperCase):
    def requests(self):
        return self.env["asterisk_plus.ami_request"]

    def test_an_admin_sends_an_action_after_commit_and_the_reply_reaches_the_callback_once(self):
        admin = self.admin()
        with self.callback() as callback:
            request_id = (
                admin["asterisk_plus.server"]
                .browse(self.server.id)
                .ami_action({"Action": "Ping"}, callback=callback, pass_back={"partner": 7}, timeout=20)
            )
            self.assertEqual(self.entries("actions"), [])  # nothing before the commit
            self.commit_hooks()
            (sent,) = self.entries("actions")
            self.assertEqual(
                (sent["@type"], sent["@id"], sent["Action"], sent["@reply_to"], sent["@uid"]),
                ("action", request_id, "Ping", "odoo_replies", str(admin.uid)),
            )
            self.assertTrue(sent["@deadline"].endswith("Z"))
            reply = self.gateway_reply(request_id)
            results = self.as_system["asterisk_plus.ami_request"].on_ami_replies("asterisk1", [reply])
            self.assertEqual(results, [{"status": "ok"}])
            again = self.as_system["asterisk_plus.ami_request"].on_ami_replies("asterisk1", [reply])
            self.assertEqual(again, [{"status": "duplicate"}])
        ((uid, result, pass_back),) = self.heard
        self.assertEqual(uid, admin.uid)
        self.assertEqual(pass_back, {"partner": 7})
        self.assertEqual((result["ok"], result["timeout"], result["request_id"]), (True, False, request_id))
        self.assertEqual(result["headers"]["Ping"], "Pong")
        request = self.requests().search([("request_id", "=", request_id)])
        self.assertEqual((request.state, request.callback_error), ("done", False))

    def test_over_rpc_only_admins_and_only_public_callbacks_from_code_anyone_with_sudo(self):
        user = self.plain_user()
        server = user["asterisk_plus.server"].browse(self.server.id)
        with self.callback() as callback:
            with self.assertRaises(AccessError):
                server.ami_action({"Action": "Ping"}, callback=callback)
            with self.assertRaises(UserError):
                self.admin()["asterisk_plus.server"].browse(self.server.id).ami_action(
                    {"Action": "Ping"}, callback=("asterisk_plus.ami_request", "_cron_timeout")
                )
            request_id = server.sudo().ami_action({"Action": "Ping"}, callback=callback)
            self.as_system["asterisk_plus.ami_request"].on_ami_replies(
                "asterisk1", [self.gateway_reply(request_id, ok=False)]
            )
        ((uid, result, _pass_back),) = self.heard
        self.assertEqual(uid, user.uid)  # as the user who asked, not as the superuser
        self.assertEqual((result["ok"], result["error"]), (False, "Permission denied"))

    def test_a_malformed_action_is_refused_before_anything_is_sent(self):
        server = self.server.sudo()
        with self.callback() as callback:
            for action in ({"Command": "core restart now"}, {"Action": "Ping", "@reply_to": "x"}, "Ping"):
                with self.assertRaises(UserError):
                    server.ami_action(action, callback=callback)
            with self.assertRaises(UserError):
                server.ami_action({"Action": "Ping"}, callback=("res.partner", "no_such_method"))
        self.commit_hooks()
        self.assertEqual(self.entries("actions"), [])

    @mute_logger("odoo.addons.asterisk_plus.models.ami_request")
    def test_a_failing_callback_is_kept_on_its_request_and_the_batch_goes_on(self):
        server = self.server.sudo()
        with self.callback(fails=True) as callback:
            first = server.ami_action({"Action": "Ping"}, callback=callback)
            second = server.ami_action({"Action": "Ping"}, callback=callback)
            results = self.as_system["asterisk_plus.ami_request"].on_ami_replies(
                "asterisk1", [self.gateway_reply(first), self.gateway_reply(second)]
            )
        self.assertEqual(results, [{"status": "ok"}, {"status": "ok"}])
        self.assertEqual(len(self.heard), 2)
        for request_id in (first, second):
            request = self.requests().search([("request_id", "=", request_id)])
            self.assertEqual(request.state, "done")
            self.assertIn("the callback's own bug", request.callback_error)
        # What the callback did before it raised is undone with it.
        self.assertFalse(self.env["res.partner"].search([("name", "=", "made by a failing callback")]))

    def test_only_the_system_account_and_only_exact_bus_entries(self):
        server = self.server.sudo()
        with self.callback() as callback:
            request_id = server.ami_action({"Action": "Ping"}, callback=callback)
            reply = self.gateway_reply(request_id)
            with self.assertRaises(AccessError):
                self.admin()["asterisk_plus.ami_request"].on_ami_replies("asterisk1", [reply])
            forged = [
                dict(reply, Ping="Forged"),  # a header changed
                dict(reply, Extra="1"),  # a header added
                {k: v for k, v in reply.items() if k != "@entry"},  # no entry
                self.gateway_reply("not-a-request-of-odoo"),
            ]
            results = self.as_system["asterisk_plus.ami_request"].on_ami_replies("asterisk1", forged)
        self.assertEqual([r["status"] for r in results], ["error"] * 4)
        self.assertEqual(self.heard, [])
        self.assertEqual(self.requests().search([("request_id", "=", request_id)]).state, "waiting")

    def test_past_its_deadline_the_callback_hears_a_timeout_once_and_a_late_reply_is_a_duplicate(self):
        server = self.server.sudo()
        with self.callback() as callback:
            late = server.ami_action({"Action": "Ping"}, callback=callback, pass_back="x", timeout=5)
            waiting = server.ami_action({"Action": "Ping"}, callback=callback, timeout=300)
            request = self.requests().search([("request_id", "=", late)])
            request.write({"deadline": fields.Datetime.now() - timedelta(minutes=5)})
            self.env["asterisk_plus.ami_request"]._cron_timeout()
            self.env["asterisk_plus.ami_request"]._cron_timeout()
            results = self.as_system["asterisk_plus.ami_request"].on_ami_replies(
                "asterisk1", [self.gateway_reply(late)]
            )
        self.assertEqual(results, [{"status": "duplicate"}])
        ((_uid, result, pass_back),) = self.heard
        self.assertEqual((result["ok"], result["timeout"], pass_back), (False, True, "x"))
        self.assertEqual(request.state, "timeout")
        self.assertEqual(self.requests().search([("request_id", "=", waiting)]).state, "waiting")

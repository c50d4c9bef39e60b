"""`UserEvent(OdooExecute, Model: ..., Method: ..., Args: <JSON>)` from the dialplan, in a real Odoo
(docs/odoo-api.md, "The developer API"): a method is called only when it is marked @dialplan in its code AND
an admin's active rule allows it; anything else is refused and logged, never run."""

from unittest.mock import patch

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..developer import dialplan
from .developer_common import DeveloperCase

EXAMPLE = ("asterisk_plus.callback_request", "request_callback")


@tagged("post_install", "-at_install")
class TestExecuteRule(DeveloperCase):
    def setUp(self):
        super().setUp()
        self.rule = self.env.ref("asterisk_plus.execute_rule_callback_request")
        self.calls = []
        calls = self.calls

        @dialplan
        def marked(model, server, args, item):
            calls.append((model.env.uid, server.name, args, item.get("@id")))
            if args.get("fail"):
                model.env["res.partner"].sudo().create({"name": "made by a failing dialplan call"})
                raise ValueError("the method's own bug")

        def unmarked(model, server, args, item):
            calls.append(("unmarked", args))

        partners = type(self.env["res.partner"])
        for name, method in (
            ("asterisk_plus_test_marked", marked),
            ("asterisk_plus_test_unmarked", unmarked),
        ):
            patcher = patch.object(partners, name, method, create=True)
            patcher.start()
            self.addCleanup(patcher.stop)

    def execute(self, *items):
        return self.as_system["asterisk_plus.execute_rule"].on_execute_events("asterisk1", list(items))

    def allow(self, model, method):
        return self.env["asterisk_plus.execute_rule"].create({"model": model, "method": method})

    def test_the_example_rule_ships_off_and_only_marked_methods_can_be_allowed(self):
        self.assertFalse(self.rule.active)
        self.assertEqual((self.rule.model, self.rule.method), EXAMPLE)
        for model, method in (
            ("res.partner", "asterisk_plus_test_unmarked"),
            ("res.users", "unlink"),
            ("asterisk_plus.call", "on_ami_events"),
            ("no.such.model", "x"),
        ):
            with self.assertRaises(ValidationError):
                self.allow(model, method)
        self.assertTrue(self.allow("res.partner", "asterisk_plus_test_marked").active)

    def test_an_allowed_marked_method_is_called_once_with_server_args_and_item(self):
        item = self.user_event("res.partner", "asterisk_plus_test_marked", {"digits": "1", "n": 2})
        self.assertEqual([r["status"] for r in self.execute(item)], ["error"])  # no rule yet
        self.assertEqual(self.calls, [])
        self.allow("res.partner", "asterisk_plus_test_marked")
        self.assertEqual(self.execute(item), [{"status": "ok"}])
        self.assertEqual(self.execute(item), [{"status": "duplicate"}])  # the bridge delivered it again
        self.assertEqual(self.calls, [(self.system.id, "asterisk1", {"digits": "1", "n": 2}, "s1:1")])

    def test_without_an_active_rule_or_without_the_mark_nothing_runs(self):
        rule = self.allow("res.partner", "asterisk_plus_test_marked")
        rule.active = False
        self.env.cr.execute(  # a rule for an unmarked method, as if written past the constraint
            "INSERT INTO asterisk_plus_execute_rule (model, method, active) VALUES (%s, %s, true)",
            ["res.partner", "asterisk_plus_test_unmarked"],
        )
        results = self.execute(
            self.user_event("res.partner", "asterisk_plus_test_marked", {}, event_id="s1:1"),
            self.user_event("res.partner", "asterisk_plus_test_unmarked", {}, event_id="s1:2"),
            self.user_event("res.users", "unlink", {}, event_id="s1:3"),
            self.user_event("res.partner", "_private", {}, event_id="s1:4"),
        )
        self.assertEqual([r["status"] for r in results], ["error"] * 4)
        self.assertIn("not allowed", results[0]["error"])
        self.assertEqual(self.calls, [])

    @mute_logger("odoo.addons.asterisk_plus.models.execute_rule")
    def test_forged_or_malformed_events_are_refused_and_a_failing_call_fails_alone(self):
        self.allow("res.partner", "asterisk_plus_test_marked")
        good = self.user_event("res.partner", "asterisk_plus_test_marked", {"n": 1}, event_id="s1:1")
        with self.assertRaises(AccessError):
            self.admin()["asterisk_plus.execute_rule"].on_execute_events("asterisk1", [good])
        results = self.execute(
            dict(good, **{" Args": '{"n": 2}'}),  # changed on its way
            self.user_event("res.partner", "asterisk_plus_test_marked", "{not json", event_id="s1:2"),
            self.user_event("res.partner", "asterisk_plus_test_marked", {"fail": 1}, event_id="s1:3"),
            self.user_event(
                "res.partner", "asterisk_plus_test_marked", {}, event_id="s1:4", UserEvent="Other"
            ),
            good,
        )
        self.assertEqual([r["status"] for r in results], ["error", "error", "error", "error", "ok"])
        self.assertIn("the method's own bug", results[2]["error"])
        self.assertFalse(self.env["res.partner"].search([("name", "=", "made by a failing dialplan call")]))
        self.assertEqual([c[2] for c in self.calls], [{"fail": 1}, {"n": 1}])
        # The failed one was not marked done: delivered again, it runs again (a duplicate would not).
        again = self.user_event("res.partner", "asterisk_plus_test_marked", {"fail": 1}, event_id="s1:3")
        self.assertEqual(self.execute(again)[0]["status"], "error")
        self.assertEqual(len(self.calls), 3)

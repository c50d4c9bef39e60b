"""The developer API's example phone app, "press 1 to be called back", in a real Odoo: the dialplan's
UserEvent leaves one "Call back" activity on the caller's partner (found by the number), else on the call."""

from odoo.tests import tagged
from odoo.tools import mute_logger

from . import flows
from .common import forget_existing_numbers
from .developer_common import DeveloperCase

EXAMPLE = ("asterisk_plus.callback_request", "request_callback")


@tagged("post_install", "-at_install")
class TestCallbackRequest(DeveloperCase):
    def setUp(self):
        super().setUp()
        forget_existing_numbers(self.env)
        self.env.ref("asterisk_plus.execute_rule_callback_request").active = True
        self.server.country_id = self.env.ref("base.be")
        self.kind = self.env.ref("asterisk_plus.activity_call_back")

    def press_1(self, event_id, args=None, **headers):
        item = self.user_event(*EXAMPLE, args or {}, event_id=event_id, **headers)
        return self.as_system["asterisk_plus.execute_rule"].on_execute_events("asterisk1", [item])

    def activities(self, record):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
                ("activity_type_id", "=", self.kind.id),
            ]
        )

    def test_a_known_caller_gets_one_call_back_activity_for_their_salesperson(self):
        seller = self.plain_user().user
        partner = self.env["res.partner"].create(
            {"name": "Jane Caller", "phone": "+32 470 12 34 56", "user_id": seller.id}
        )
        self.assertEqual(self.press_1("s1:1"), [{"status": "ok"}])  # CallerIDNum 0470123456, Belgium
        self.assertEqual(self.press_1("s1:2"), [{"status": "ok"}])  # pressed again: still one activity
        (activity,) = self.activities(partner)
        self.assertEqual(activity.user_id, seller)
        self.assertIn("+32470123456", activity.summary)

    def test_an_unknown_caller_leaves_it_on_the_call_for_the_user_named_in_args(self):
        key, _synthetic, items = flows.ring_group_answered()
        self.as_system["asterisk_plus.call"].on_ami_events("asterisk1", items)
        call = self.env["asterisk_plus.call"].search([("linkedid", "=", key)])
        forget_existing_numbers(self.env)  # the flow's caller has no partner now
        call.partner_id = False
        agent = self.admin().user
        results = self.press_1("s1:1", {"user": agent.login}, Linkedid=key, CallerIDNum="0470999999")
        self.assertEqual(results, [{"status": "ok"}])
        (activity,) = self.activities(call)
        self.assertEqual(activity.user_id, agent)

    @mute_logger("odoo.addons.asterisk_plus.models.execute_rule")
    def test_nobody_to_leave_it_with_is_an_error_of_that_item(self):
        results = self.press_1(
            "s1:1", Linkedid="no-such-call", Uniqueid="no-such-channel", CallerIDNum="0470999999"
        )
        self.assertEqual(results[0]["status"], "error")
        self.assertIn("Nobody to leave the call back with", results[0]["error"])

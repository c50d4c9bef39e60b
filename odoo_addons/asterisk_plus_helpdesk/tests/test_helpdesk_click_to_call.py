"""Click-to-call from a ticket in a real Odoo: asterisk_plus's originate (the Originate on a real Redis after
commit), the call linked to the ticket and its contact."""

import json

from odoo.addons.asterisk_plus.tests.test_console_ban_call import RedisCase
from odoo.exceptions import UserError
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestClickToCallFromATicket(RedisCase):
    def setUp(self):
        super().setUp()
        self.need_redis()
        self.user = self.agent("support102", "102", ["PJSIP/102"], "helpdesk_mgmt.group_helpdesk_user")
        self.jane = self.env["res.partner"].create({"name": "Jane Doe", "phone": "+32 2 555 12 34"})
        self.ticket = self.env["helpdesk.ticket"].create(
            {"name": "Printer", "description": "<p>x</p>", "partner_id": self.jane.id}
        )

    def test_the_call_button_dials_the_tickets_contact_and_links_the_call(self):
        self.ticket.with_user(self.user).action_asterisk_call()
        call = self.last_call(self.user)
        self.commit_hooks()
        [entry] = self.entries("actions")
        [req] = [r["req"] for r in json.loads(call.facts)["@originate"]["reqs"]]
        self.assertEqual(
            (entry["Action"], entry["Channel"], entry["Exten"], entry["ChannelId"]),
            ("Originate", "PJSIP/102", "+3225551234", f"odoo-{req}"),
        )
        self.assertEqual(
            (call.ticket_id, call.partner_id, call.res_model, call.res_id),
            (self.ticket, self.jane, "helpdesk.ticket", self.ticket.id),
        )

    def test_a_contact_without_a_number_says_so(self):
        self.jane.phone = False
        with self.assertRaises(UserError):
            self.ticket.with_user(self.user).action_asterisk_call()

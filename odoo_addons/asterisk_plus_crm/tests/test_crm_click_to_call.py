"""Click-to-call from a lead in a real Odoo: asterisk_plus's originate (the same Originate on the bus as from
a partner, after commit), the call linked to the lead and to the lead's partner."""

import json

from odoo.addons.asterisk_plus.tests.test_console_ban_call import RedisCase
from odoo.exceptions import UserError
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestClickToCallFromALead(RedisCase):
    def setUp(self):
        super().setUp()
        self.need_redis()
        sales = "sales_team.group_sale_salesman_all_leads"
        self.user = self.agent("seller102", "102", ["PJSIP/102"], sales)
        self.acme = self.env["res.partner"].create({"name": "Acme", "is_company": True})
        self.deal = self.env["crm.lead"].create(
            {
                "name": "Acme deal",
                "type": "opportunity",
                "partner_id": self.acme.id,
                "phone": "+32 2 555 12 34",
                "mobile": "+32 470 99 88 77",
            }
        )

    def test_the_call_button_dials_the_leads_mobile_and_links_the_call(self):
        self.deal.with_user(self.user).action_asterisk_call()
        call = self.last_call(self.user)
        self.assertEqual(self.entries("actions"), [])  # nothing before the commit
        self.commit_hooks()
        [entry] = self.entries("actions")
        [req] = [r["req"] for r in json.loads(call.facts)["@originate"]["reqs"]]
        self.assertEqual(
            (entry["Action"], entry["Channel"], entry["Exten"], entry["ChannelId"], entry["CallerID"]),
            ("Originate", "PJSIP/102", "+32470998877", f"odoo-{req}", "Acme <102>"),
        )
        self.assertEqual(
            (call.lead_id, call.partner_id, call.res_model, call.res_id, call.called),
            (self.deal, self.acme, "crm.lead", self.deal.id, "+32470998877"),
        )
        self.assertEqual(self.deal.with_user(self.user).asterisk_call_count, 1)

    def test_the_phone_widgets_dial_button_on_a_lead_links_the_call_too(self):
        # What the Dial button beside a phone field calls (asterisk_plus's static/src/phone_field).
        self.env["asterisk_plus.call"].with_user(self.user).originate(
            self.deal.phone, res_model="crm.lead", res_id=self.deal.id
        )
        call = self.last_call(self.user)
        self.assertEqual((call.lead_id, call.partner_id, call.called), (self.deal, self.acme, "+3225551234"))

    def test_a_lead_without_a_number_says_so(self):
        self.deal.write({"phone": False, "mobile": False})
        with self.assertRaises(UserError):
            self.deal.with_user(self.user).action_asterisk_call()

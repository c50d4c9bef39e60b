"""A lead from a missed call of an unknown number (asterisk_plus's `_on_missed_calls` hook), in a real Odoo
with the real ring-group flow nobody answers: the setting, the sales team, one lead per number, none for a
known number."""

from odoo.addons.asterisk_plus.tests import flows
from odoo.tests import tagged

from .common import NUMBER, CrmCallCase, renumber


@tagged("post_install", "-at_install")
class TestLeadFromMissedCall(CrmCallCase):
    def setUp(self):
        super().setUp()
        self.team = self.env["crm.team"].create({"name": "Phone sales"})
        self.leads = self.env["crm.lead"].with_context(active_test=False)

    def settings(self, on, team=None):
        self.env["res.config.settings"].create(
            {
                "asterisk_crm_missed_call_lead": on,
                "asterisk_crm_missed_call_team_id": team.id if team else False,
            }
        ).execute()

    def missed(self, number=NUMBER, local="0470123456", tag="1"):
        key, _synthetic, items = flows.ring_group_missed()
        if number != NUMBER or tag != "1":
            items = renumber(items, number, local, tag)
            key = key[:9] + tag + key[10:]
        self.deliver(items)
        call = self.call(key)
        self.assertEqual(call.status, "missed")
        return call

    def test_off_no_lead(self):
        self.settings(False)
        before = self.leads.search_count([])
        call = self.missed()
        self.assertEqual((self.leads.search_count([]), call.lead_id.id), (before, False))

    def test_on_a_missed_call_from_an_unknown_number_makes_one_lead_per_number_in_the_team(self):
        self.settings(True, self.team)
        first = self.missed()
        lead = first.lead_id
        self.assertTrue(lead)
        self.assertEqual(
            (lead.phone_e164, lead.team_id, lead.user_id.id, lead.name),
            (NUMBER, self.team, False, f"Missed call from {NUMBER}"),
        )
        self.assertEqual(lead.medium_id, self.env.ref("utm.utm_medium_phone"))
        self.assertTrue(first.lead_logged)
        self.assertEqual(len(lead.message_ids.filtered(lambda m: f"id={first.id}" in (m.body or ""))), 1)
        again = self.missed(tag="2")  # the same number calls again: the same lead
        self.assertEqual(again.lead_id, lead)
        other = self.missed("+32470654321", "0470654321", tag="3")
        self.assertNotEqual(other.lead_id, lead)
        self.assertEqual(other.lead_id.phone_e164, "+32470654321")
        self.assertEqual(self.leads.search_count([("phone_e164", "=", NUMBER)]), 1)

    def test_on_a_missed_call_from_a_contact_makes_no_lead(self):
        self.settings(True)
        jane = self.partner("Jane Doe", mobile="0470123456")
        before = self.leads.search_count([])
        call = self.missed()
        self.assertEqual((call.partner_id, call.lead_id.id), (jane, False))
        self.assertEqual(self.leads.search_count([]), before)

    def test_an_answered_call_from_an_unknown_number_makes_no_lead(self):
        self.settings(True)
        before = self.leads.search_count([])
        key, _synthetic, items = flows.ring_group_answered()
        self.deliver(items)
        self.assertEqual(self.call(key).status, "answered")
        self.assertEqual(self.leads.search_count([]), before)

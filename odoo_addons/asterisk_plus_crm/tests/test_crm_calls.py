"""Calls linked to leads in a real Odoo, with asterisk_plus's real flows: the lead of the caller's number
(whatever the order setting), one chatter line per ended call, the smart button."""

from odoo.addons.asterisk_plus.tests import flows
from odoo.tests import tagged

from .common import CrmCallCase


def chatter_lines(lead):
    return lead.message_ids.filtered(lambda m: "asterisk_plus.call" in (m.body or ""))


@tagged("post_install", "-at_install")
class TestCallsOnLeads(CrmCallCase):
    def test_an_incoming_call_from_a_leads_number_is_linked_and_written_once_on_its_chatter(self):
        deal = self.lead("Big deal", mobile="0470 12 34 56")
        key, _synthetic, items = flows.queue_answered()
        self.deliver(items[:10])
        call = self.call(key)
        self.assertEqual((call.lead_id, call.status in ("ringing", "up")), (deal, True))
        self.assertFalse(chatter_lines(deal))  # not before it ended
        self.deliver(items[10:])
        self.assertEqual((call.status, call.lead_logged), ("answered", True))
        [line] = chatter_lines(deal)
        self.assertIn(f"id={call.id}", line.body)
        self.assertIn("+32470123456", line.body)
        self.deliver(items)  # redelivered
        self.deliver([dict(items[-1], **{"@id": "c:late"})])
        self.assertEqual(len(chatter_lines(deal)), 1)
        self.assertEqual(deal.asterisk_call_count, 1)
        action = deal.action_asterisk_calls()
        self.assertEqual(self.env["asterisk_plus.call"].search(action["domain"]), call)

    def test_the_contact_comes_first_in_the_lookup_but_the_call_still_gets_the_lead(self):
        jane = self.partner("Jane Doe", mobile="0470123456")
        deal = self.lead("Jane's deal", phone="0470123456")
        key, _synthetic, items = flows.inbound_answered_without_dial()
        self.deliver(items)
        call = self.call(key)
        self.assertEqual((call.partner_id, call.lead_id), (jane, deal))
        self.assertEqual(len(chatter_lines(deal)), 1)

    def test_a_call_from_an_unknown_number_or_a_won_deals_number_gets_no_lead(self):
        deal = self.lead("Closed deal", phone="0470123456")
        deal.action_set_won()
        key, _synthetic, items = flows.inbound_answered_without_dial()
        self.deliver(items)
        self.assertFalse(self.call(key).lead_id)
        self.assertFalse(chatter_lines(deal))

    def test_a_salesperson_who_is_no_asterisk_user_sees_no_call_count(self):
        deal = self.lead("Big deal", mobile="0470 12 34 56")
        self.deliver(flows.queue_answered()[2])
        seller = self.user("seller", group="sales_team.group_sale_salesman_all_leads")
        self.assertEqual(deal.with_user(seller).asterisk_call_count, 0)
        deal.invalidate_recordset(["asterisk_call_count"])  # one cache for all users in one transaction
        self.assertEqual(deal.asterisk_call_count, 1)

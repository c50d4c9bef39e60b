"""A ticket made from a call, calls on tickets and their chatter lines, in a real Odoo with asterisk_plus's
real call flows."""

from odoo.addons.asterisk_plus.tests import flows
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import HelpdeskCallCase


def chatter_lines(ticket):
    return ticket.message_ids.filtered(lambda m: "asterisk_plus.call" in (m.body or ""))


@tagged("post_install", "-at_install")
class TestTicketFromACall(HelpdeskCallCase):
    def test_a_ticket_made_from_an_answered_call_has_the_caller_and_the_call(self):
        agent = self.agent("agent100", "100", "Local/100@demo")
        key, _synthetic, items = flows.queue_answered()
        self.deliver(items)
        call = self.call(key)
        self.assertEqual((call.partner_id, call.status), (self.jane, "answered"))
        action = call.with_user(agent).action_create_ticket()
        ticket = self.env["helpdesk.ticket"].browse(action["res_id"])
        self.assertEqual(call.ticket_id, ticket)
        self.assertEqual(
            (ticket.name, ticket.partner_id, ticket.user_id, ticket.channel_id, ticket.partner_email),
            (
                "Call from Jane Doe (+32470123456)",
                self.jane,
                agent,
                self.env.ref("helpdesk_mgmt.helpdesk_ticket_channel_phone"),
                "jane@example.com",
            ),
        )
        self.assertIn(f"id={call.id}", ticket.description)
        [line] = chatter_lines(ticket)
        self.assertIn("+32470123456", line.body)
        again = call.with_user(agent).action_create_ticket()  # the call has its ticket: it opens it
        self.assertEqual(again["res_id"], ticket.id)
        self.assertEqual(self.env["helpdesk.ticket"].search_count([("partner_id", "=", self.jane.id)]), 1)
        self.deliver(items)  # redelivered: no second line
        self.assertEqual(len(chatter_lines(ticket)), 1)
        self.assertEqual(ticket.with_user(agent).asterisk_call_count, 1)
        calls = ticket.action_asterisk_calls()
        self.assertEqual(self.env["asterisk_plus.call"].search(calls["domain"]), call)

    def test_a_ticket_from_an_unknown_numbers_missed_call_is_named_by_the_number(self):
        self.jane.mobile = False
        agent = self.agent("agent202", "202", "Local/202@phone-devices")
        key, _synthetic, items = flows.ring_group_missed()
        self.deliver(items)
        call = self.call(key)
        ticket = self.env["helpdesk.ticket"].browse(call.with_user(agent).action_create_ticket()["res_id"])
        self.assertEqual((ticket.name, ticket.partner_id.id), ("Call from +32470123456", False))

    def test_an_asterisk_user_who_is_no_helpdesk_user_cannot_make_a_ticket(self):
        agent = self.agent("agent100", "100", "Local/100@demo", helpdesk=False)
        key, _synthetic, items = flows.queue_answered()
        self.deliver(items)
        with self.assertRaises(AccessError):
            self.call(key).with_user(agent).action_create_ticket()
        self.assertFalse(self.call(key).ticket_id)

    def test_the_callers_tickets_are_those_of_its_company(self):
        agent = self.agent("agent100", "100", "Local/100@demo")
        key, _synthetic, items = flows.queue_answered()
        self.deliver(items)
        john = self.env["res.partner"].create({"name": "John", "parent_id": self.acme.id})
        mine = self.ticket("Printer", self.jane) | self.ticket("Invoice", john)
        self.ticket("Elsewhere", self.env["res.partner"].create({"name": "Other"}))
        action = self.call(key).with_user(agent).action_caller_tickets()
        self.assertEqual(self.env["helpdesk.ticket"].search(action["domain"]), mine)

"""The incoming call pop-up offers the caller's open tickets (its company's, the newest three), in a real
Odoo with a real queue call."""

from odoo.tests import tagged

from .common import HelpdeskCallCase


@tagged("post_install", "-at_install")
class TestPopupTickets(HelpdeskCallCase):
    def test_the_pop_up_offers_the_newest_open_tickets_of_the_callers_company(self):
        agent = self.agent("agent100", "100", "Local/100@demo")
        colleague = self.env["res.partner"].create({"name": "John", "parent_id": self.acme.id})
        old = self.ticket("Old one", self.jane)
        self.ticket("Done", self.jane, closed=True)
        tickets = [self.ticket(name, who) for name, who in (("Printer", self.jane), ("Invoice", colleague))]
        newest = self.ticket("VPN", self.jane)
        popup = self.ringing_popup(agent)
        self.assertEqual((popup["res_model"], popup["res_id"]), ("res.partner", self.jane.id))
        expected = [newest, tickets[1], tickets[0]]  # at most three: the oldest open one is left out
        self.assertEqual(
            popup["links"],
            [
                {
                    "model": "helpdesk.ticket",
                    "id": t.id,
                    "label": f"Ticket: {t.display_name}",
                    "icon": "fa-life-ring",
                }
                for t in expected
            ],
        )
        self.assertNotIn(old.id, [link["id"] for link in popup["links"]])

    def test_a_caller_without_open_tickets_gets_no_link(self):
        agent = self.agent("agent100", "100", "Local/100@demo")
        self.ticket("Done", self.jane, closed=True)
        self.assertEqual(self.ringing_popup(agent)["links"], [])

"""The incoming call pop-up offers the caller's open opportunity, in a real Odoo with real flows."""

from odoo.addons.asterisk_plus.tests import flows
from odoo.addons.asterisk_plus.tests.common import last_bus_id, notifications
from odoo.tests import tagged

from .common import CrmCallCase, renumber


@tagged("post_install", "-at_install")
class TestPopupOpportunity(CrmCallCase):
    def test_a_known_contact_pops_up_with_the_open_opportunity_of_its_company(self):
        agent = self.agent("agent100", "100", "Local/100@demo")
        acme = self.partner("Acme", is_company=True)
        jane = self.partner("Jane Doe", parent_id=acme.id, mobile="0470 12 34 56")
        self.lead("Old deal", partner_id=acme.id).action_set_won()
        deal = self.lead("Acme renewal", partner_id=acme.id)
        popup = self.ringing_popup(agent)
        self.assertEqual((popup["res_model"], popup["res_id"]), ("res.partner", jane.id))
        self.assertEqual(
            popup["links"],
            [{"model": "crm.lead", "id": deal.id, "label": "Opportunity: Acme renewal", "icon": "fa-star"}],
        )

    def test_a_salesperson_is_not_offered_an_opportunity_they_may_not_read(self):
        agent = self.agent("agent100", "100", "Local/100@demo", sales="sales_team.group_sale_salesman")
        acme = self.partner("Acme", is_company=True)
        self.partner("Jane Doe", parent_id=acme.id, mobile="0470 12 34 56")
        self.lead("Acme renewal", partner_id=acme.id, user_id=self.env.ref("base.user_admin").id)
        popup = self.ringing_popup(agent)
        self.assertEqual((popup["name"], popup["links"]), ("Jane Doe", []))

    def test_leads_first_the_pop_up_opens_the_lead_itself_and_links_nothing_more(self):
        agent = self.agent("agent100", "100", "Local/100@demo")
        self.order("leads_first")
        deal = self.lead("Website request", type="lead", contact_name="John Smith", phone="0470123456")
        popup = self.ringing_popup(agent)
        self.assertEqual(
            (popup["res_model"], popup["res_id"], popup["name"], popup["links"]),
            ("crm.lead", deal.id, "John Smith", []),
        )

    def test_contacts_first_an_unknown_contact_with_a_lead_pops_up_the_lead_and_no_contact(self):
        agent = self.agent("agent100", "100", "Local/100@demo")
        deal = self.lead("Website request", type="lead", phone="0470123456")
        popup = self.ringing_popup(agent)
        self.assertEqual((popup["res_model"], popup["res_id"], popup["links"]), ("crm.lead", deal.id, []))
        self.order("partners_only")
        popup = self.ringing_popup_again(agent)
        self.assertEqual(
            (popup["res_model"], popup["links"]),
            ("", [{"model": "crm.lead", "id": deal.id, "label": "Lead: Website request", "icon": "fa-star"}]),
        )

    def ringing_popup_again(self, agent):
        """Another call from the same number (other ids), ringing."""
        since = last_bus_id(self.env)
        items = renumber(flows.queue_answered()[2][:6], "+32470123456", "0470123456", "8")
        self.deliver(items)
        [popup] = notifications(self.env, agent, since, "asterisk_plus.call")
        return popup

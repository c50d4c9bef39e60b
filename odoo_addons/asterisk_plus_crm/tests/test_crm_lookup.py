"""Leads and opportunities in the one lookup, in a real Odoo: the order setting, an opportunity before a
lead, won and lost leads left out, the cache cleared by the lead writes that matter, cards, labels and the
phonebook."""

from odoo.tests import tagged

from .common import NUMBER, CrmCallCase


@tagged("post_install", "-at_install")
class TestCrmLookup(CrmCallCase):
    def test_the_order_setting_says_whether_the_contact_or_the_lead_comes_first(self):
        jane = self.partner("Jane Doe", mobile="0470 12 34 56")
        deal = self.lead("Big deal", phone="+32 470 12 34 56")
        self.assertEqual(deal.phone_e164, NUMBER)
        self.assertEqual(self.lookup._lookup(NUMBER), ("res.partner", jane.id, jane.id))
        self.order("leads_first")
        self.assertEqual(self.lookup._lookup(NUMBER), ("crm.lead", deal.id, False))
        self.order("partners_only")
        self.assertEqual(self.lookup._lookup(NUMBER), ("res.partner", jane.id, jane.id))
        jane.mobile = False
        self.assertIsNone(self.lookup._lookup(NUMBER))
        self.order("partners_first")
        self.assertEqual(self.lookup._lookup(NUMBER), ("crm.lead", deal.id, False))

    def test_an_opportunity_comes_before_a_lead_and_won_or_lost_ones_are_left_out(self):
        lead = self.lead("A lead", type="lead", mobile="0470123456")
        older = self.lead("Older deal", phone="0470123456")
        newer = self.lead("Newer deal", phone="0470123456")
        self.assertEqual(self.lookup._lookup(NUMBER)[:2], ("crm.lead", newer.id))
        newer.action_set_won()
        self.assertEqual(self.lookup._lookup(NUMBER)[:2], ("crm.lead", older.id))
        older.action_set_lost()
        self.assertFalse(older.active)
        self.assertEqual(self.lookup._lookup(NUMBER)[:2], ("crm.lead", lead.id))
        lead.phone = lead.mobile = False  # the write clears the cache
        self.assertIsNone(self.lookup._lookup(NUMBER))
        self.assertFalse(self.lookup._lead_for_number(NUMBER))

    def test_the_lead_of_a_partner_is_found_with_its_partner(self):
        acme = self.partner("Acme", is_company=True)
        deal = self.lead("Acme deal", partner_id=acme.id, phone="0470123456", contact_name="John Smith")
        # crm gives the partner the lead's phone too: contacts first, the lookup finds the partner.
        self.assertEqual(self.lookup._lookup(NUMBER), ("res.partner", acme.id, acme.id))
        self.order("leads_first")
        self.assertEqual(self.lookup._lookup(NUMBER), ("crm.lead", deal.id, acme.id))
        found = self.lookup._lookup(NUMBER)
        card = self.lookup._lookup_card(found)
        self.assertEqual(
            (card["model"], card["id"], card["name"], card["company"], card["avatar"]),
            ("crm.lead", deal.id, "John Smith", "Acme", f"/web/image/res.partner/{acme.id}/avatar_128"),
        )
        self.assertEqual(self.lookup._lookup_labels([found]), {found: "John Smith (Acme)"})

    def test_a_lead_without_contact_shows_its_title_and_the_phonebook_holds_its_number(self):
        deal = self.lead("Website request", phone="0470123456")
        found = ("crm.lead", deal.id, False)
        self.assertEqual(self.lookup._lookup_labels([found]), {found: "Website request"})
        phonebook = self.env["asterisk_plus.phonebook"]
        self.assertIn(NUMBER, phonebook._all_numbers())
        self.assertEqual(phonebook._entries({NUMBER}), {NUMBER: "Website request"})
        self.order("partners_only")
        self.assertNotIn(NUMBER, phonebook._all_numbers())
        self.assertEqual(phonebook._entries({NUMBER}), {NUMBER: ""})

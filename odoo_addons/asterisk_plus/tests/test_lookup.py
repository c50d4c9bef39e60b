"""The one lookup, number -> record, in a real Odoo: a contact before its company, the most recent call
between contacts, cached and cleared by the partner writes that matter, extended by other modules."""

from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from . import flows
from .test_calls import CallCase

NUMBER = "+32470123456"  # the caller of the flows


@tagged("post_install", "-at_install")
class TestLookup(CallCase):
    def setUp(self):
        super().setUp()
        self.lookup = self.env["asterisk_plus.lookup"]
        self.env.registry.clear_cache()

    def partner(self, name, **values):
        return self.env["res.partner"].create(dict({"name": name, "country_id": self.country.id}, **values))

    def test_the_contact_comes_before_its_company_and_the_call_journal_takes_it(self):
        acme = self.partner("Acme", is_company=True, phone="+32 470 12 34 56")
        jane = self.partner("Jane Doe", parent_id=acme.id, mobile="0470 12 34 56")
        self.assertEqual(self.lookup._lookup(NUMBER), ("res.partner", jane.id, jane.id))
        key, _synthetic, items = flows.inbound_answered_without_dial()
        self.deliver(items)
        self.assertEqual(self.call(key).partner_id, jane)
        found = self.lookup._lookup(NUMBER)
        self.assertEqual(self.lookup._lookup_labels([found]), {found: "Jane Doe (Acme)"})
        card = self.lookup._lookup_card(found)
        self.assertEqual(
            (card["name"], card["company"], card["avatar"]),
            ("Jane Doe", "Acme", f"/web/image/res.partner/{jane.id}/avatar_128"),
        )

    def test_between_two_contacts_the_one_called_last_wins_else_the_first_created(self):
        first = self.partner("First", phone=NUMBER)
        second = self.partner("Second", mobile=NUMBER)
        self.assertEqual(self.lookup._lookup(NUMBER)[1], first.id)
        self.env["asterisk_plus.call"].create(
            {
                "server_id": self.server.id,
                "linkedid": "lookup-recent",
                "partner_id": second.id,
                "started_at": fields.Datetime.now(),
            }
        )
        self.assertEqual(self.lookup._lookup(NUMBER)[1], first.id)  # cached: a call does not clear it
        self.env.registry.clear_cache()
        self.assertEqual(self.lookup._lookup(NUMBER)[1], second.id)

    def test_the_lookup_is_cached_and_the_partner_writes_that_matter_clear_it(self):
        lookup_class = type(self.lookup)
        original = lookup_class._lookup_numbers
        asked = []

        def counting(records, numbers):
            asked.append(sorted(numbers))
            return original(records, numbers)

        with patch.object(lookup_class, "_lookup_numbers", counting):
            partner = self.partner("Customer", phone=NUMBER)
            self.assertEqual(self.lookup._lookup(NUMBER)[1], partner.id)
            self.assertEqual(self.lookup._lookup(NUMBER)[1], partner.id)
            self.assertEqual(asked, [[NUMBER]])  # the second time from the cache
            partner.write({"comment": "no number, name or company changed"})
            self.lookup._lookup(NUMBER)
            self.assertEqual(len(asked), 1)
            partner.phone = "+32 2 555 12 34"
            self.assertIsNone(self.lookup._lookup(NUMBER))
            self.assertEqual(self.lookup._lookup("+3225551234")[1], partner.id)
            other = self.partner("Other", mobile=NUMBER)
            self.assertEqual(self.lookup._lookup(NUMBER)[1], other.id)
            other.active = False
            self.assertIsNone(self.lookup._lookup(NUMBER))
            partner.unlink()
            self.assertIsNone(self.lookup._lookup("+3225551234"))

    def test_another_module_adds_its_records_by_extending_lookup_candidates(self):
        self.partner("Customer", phone=NUMBER)
        lookup_class = type(self.lookup)
        original = lookup_class._lookup_candidates
        user = self.env.user

        def with_users(records, numbers):
            out = original(records, numbers)
            if NUMBER in out:
                out[NUMBER].append({"model": "res.users", "id": user.id, "partner_id": False, "rank": 5})
            return out

        with patch.object(lookup_class, "_lookup_candidates", with_users):
            self.env.registry.clear_cache()
            found = self.lookup._lookup(NUMBER)
            self.assertEqual(found, ("res.users", user.id, False))
            self.assertEqual(self.lookup._lookup_card(found)["name"], user.display_name)
            self.assertEqual(self.lookup._lookup_labels([found]), {found: user.display_name})
        self.env.registry.clear_cache()

    def test_a_click_to_call_from_any_record_finds_the_partner_by_its_number(self):
        partner = self.partner("Customer", phone="+32 2 555 12 34")
        user = self.user("caller110", extension="110", phone="PJSIP/110")
        self.server.country_id = self.country
        tag = self.env["res.partner.category"].create({"name": "A record without a partner"})
        calls = self.env["asterisk_plus.call"]
        calls.with_user(user).originate("02 555 12 34", "res.partner.category", tag.id)
        call = calls.search([("user_id", "=", user.id)])
        self.assertEqual(
            (call.partner_id, call.res_model, call.res_id, call.called),
            (partner, "res.partner.category", tag.id, "+3225551234"),
        )
        self.assertTrue(user._asterisk_can_call())
        self.assertFalse(self.user("nophone111")._asterisk_can_call())

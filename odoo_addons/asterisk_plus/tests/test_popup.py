"""The incoming call pop-up, missed calls and the number-not-found wizard in a real Odoo, with real flows:
a queue, a ring group with two devices on one extension, a ring group nobody answers."""

from odoo.exceptions import AccessError
from odoo.tests import tagged

from . import flows
from .agent_case import AgentCase
from .common import last_bus_id, notifications
from .test_calls import CallCase

POPUP = "asterisk_plus.call"


def split(items, *events):
    """The items cut after the last item of each event named (in this order)."""
    cuts, start = [], 0
    for event in events:
        end = max(i for i, item in enumerate(items) if item["Event"] == event) + 1
        cuts.append(items[start:end])
        start = end
    return [*cuts, items[start:]]


@tagged("post_install", "-at_install")
class TestIncomingCallPopup(AgentCase):
    def setUp(self):
        super().setUp()
        self.env.registry.clear_cache()
        self.known_caller()

    def popups(self, user, since):
        return notifications(self.env, user, since, POPUP)

    def test_a_queue_call_pops_up_for_the_agent_with_the_caller_then_says_it_was_answered_and_ended(self):
        agent = self.agent("agent100", "100", "Local/100@demo")
        key, _synthetic, items = flows.queue_answered()
        heard = []
        for batch in split(items, "AgentCalled", "AgentConnect"):
            since = last_bus_id(self.env)
            self.deliver(batch)
            heard += self.popups(agent, since)
        self.assertEqual([p["state"] for p in heard], ["ringing", "answered", "ended"])
        ringing = heard[0]
        call = self.call(key)
        self.assertEqual(
            {
                k: ringing[k]
                for k in ("call_id", "number", "name", "company", "avatar", "res_model", "res_id")
            },
            {
                "call_id": call.id,
                "number": "+32470123456",
                "name": "Jane Doe",
                "company": "Acme",
                "avatar": f"/web/image/res.partner/{self.jane.id}/avatar_128",
                "res_model": "res.partner",
                "res_id": self.jane.id,
            },
        )
        self.assertEqual(
            (ringing["queue"], ringing["sticky"], ringing["open_record"]), ("support", False, "never")
        )
        self.assertEqual((heard[1]["answered_by"], heard[1]["answered_by_me"]), ("agent100", True))
        self.assertEqual(heard[2]["status"], "answered")
        since = last_bus_id(self.env)
        self.deliver(items)  # redelivered: duplicates, nobody hears it again
        self.assertEqual(self.popups(agent, since), [])

    def test_a_ring_group_pops_up_once_per_user_even_with_two_devices_and_says_who_took_it(self):
        alice = self.agent("alice", "201", "Local/201@phone-devices")
        bob = self.agent("bob", "202", "Local/202@phone-devices")
        bob.write({"asterisk_popup_sticky": True, "asterisk_popup_open": "ring"})
        key, _synthetic, items = flows.ring_group_answered()
        heard = {alice: [], bob: []}
        for batch in split(items, "DialBegin", "DialEnd"):
            since = last_bus_id(self.env)
            self.deliver(batch)
            for user in heard:
                heard[user] += self.popups(user, since)
        for user in heard:
            self.assertEqual([p["state"] for p in heard[user]], ["ringing", "answered", "ended"], user.login)
        self.assertEqual([p["answered_by"] for p in heard[bob][1:]], ["alice", "alice"])
        self.assertEqual([p["answered_by_me"] for p in heard[alice][1:]], [True, True])
        self.assertFalse(heard[bob][1]["answered_by_me"])
        self.assertEqual((heard[bob][0]["sticky"], heard[bob][0]["open_record"]), (True, "ring"))
        call = self.call(key)
        self.assertEqual(
            (call.status, call.answered_user_id, call.partner_id), ("answered", alice, self.jane)
        )
        self.assertEqual(call.participant_ids, alice | bob)

    def test_several_phones_of_one_user_ring_one_pop_up(self):
        both = self.agent("both", "201", "Local/201@phone-devices", "Local/202@phone-devices")
        key, _synthetic, items = flows.ring_group_answered()
        since = last_bus_id(self.env)
        self.deliver(split(items, "DialBegin")[0])
        self.assertEqual([p["state"] for p in self.popups(both, since)], ["ringing"])

    def test_the_pop_up_goes_to_this_servers_pbx_users_only_and_not_to_who_turned_it_off(self):
        other_server = self.env["asterisk_plus.server"].create({"name": "pbx-popup-other"})
        stranger = self.agent("stranger", "202", "Local/202@phone-devices", server=other_server)
        quiet = self.agent("quiet", "201", "Local/201@phone-devices")
        quiet.asterisk_popup = False
        since = last_bus_id(self.env)
        self.deliver(flows.ring_group_answered()[2])
        self.assertEqual(notifications(self.env, stranger, since), [])
        # The call's news for the live view still reach the user (call_supervision.py), but no pop-up.
        told = notifications(self.env, quiet, since)
        self.assertEqual([n for n in told if set(n) != {"call_ids"}], [])
        self.assertTrue(told)

    def test_a_missed_call_tells_the_rung_user_and_leaves_one_call_back_activity_when_asked(self):
        bob = self.agent("bob", "202", "Local/202@phone-devices")
        bob.write({"asterisk_popup": False, "asterisk_missed_activity": True})
        since = last_bus_id(self.env)
        key, _synthetic, items = flows.ring_group_missed()
        self.deliver(items[:7])
        self.deliver(items[7:])
        [note] = notifications(self.env, bob, since, "simple_notification")
        self.assertEqual((note["title"], note["type"]), ("Missed call", "warning"))
        self.assertIn("Jane Doe", note["message"])
        activity_type = self.env.ref("asterisk_plus.activity_call_back")
        activities = self.jane.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)
        self.assertEqual((len(activities), activities.user_id), (1, bob))
        self.assertIn("+32470123456", activities.summary)
        again = dict(items[-1], **{"@id": "i:again"})  # a late Cdr: the call is missed already
        self.deliver([again])
        self.assertEqual(
            len(self.jane.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)), 1
        )
        self.assertEqual(self.call(key).status, "missed")

    def test_a_missed_call_from_an_unknown_number_pops_up_missed_and_its_activity_is_on_the_call(self):
        self.jane.mobile = False
        bob = self.agent("bob", "202", "Local/202@phone-devices")
        bob.asterisk_missed_activity = True
        since = last_bus_id(self.env)
        key, _synthetic, items = flows.ring_group_missed()
        self.deliver(items)
        [popup] = self.popups(bob, since)
        self.assertEqual(
            (popup["state"], popup["status"], popup["name"], popup["res_model"]), ("ended", "missed", "", "")
        )
        call = self.call(key)
        self.assertEqual(call.activity_ids.user_id, bob)


@tagged("post_install", "-at_install")
class TestNumberWizard(CallCase):
    def setUp(self):
        super().setUp()
        self.env.registry.clear_cache()
        self.bob = self.user("bob", extension="202", phone="Local/202@phone-devices")
        self.bob.groups_id = [(4, self.env.ref("base.group_partner_manager").id)]
        key, _synthetic, items = flows.ring_group_missed()
        self.deliver(items)
        self.missed = self.call(key)

    def wizard(self, user, **values):
        return (
            self.env["asterisk_plus.number_wizard"]
            .with_user(user)
            .create(dict({"number": "+32470123456", "call_id": self.missed.id}, **values))
        )

    def test_an_unknown_number_becomes_a_new_contact_and_its_call_is_linked_to_it(self):
        acme = self.env["res.partner"].create({"name": "Acme", "is_company": True})
        action = self.wizard(self.bob, mode="create", name="Jane Doe", parent_id=acme.id).action_apply()
        partner = self.env["res.partner"].browse(action["res_id"])
        self.assertEqual(
            (partner.name, partner.parent_id, partner.phone_e164), ("Jane Doe", acme, "+32470123456")
        )
        self.assertEqual(self.missed.partner_id, partner)
        self.assertEqual(self.env["asterisk_plus.lookup"]._lookup("+32470123456")[1], partner.id)

    def test_the_number_is_added_to_an_existing_contact_in_the_field_left_empty(self):
        john = self.env["res.partner"].create({"name": "John", "phone": "+32 2 555 12 34"})
        wizard = self.wizard(self.bob, mode="add", partner_id=john.id)
        wizard._onchange_partner_id()
        self.assertEqual(wizard.number_field, "mobile")
        wizard.action_apply()
        self.assertEqual((john.phone, john.mobile), ("+32 2 555 12 34", "+32470123456"))
        self.assertEqual(self.missed.partner_id, john)

    def test_a_call_the_user_may_not_see_is_not_linked_and_only_asterisk_users_use_it(self):
        other = self.user("carol", extension="203", phone="PJSIP/203")
        other.groups_id = [(4, self.env.ref("base.group_partner_manager").id)]
        with self.assertRaises(AccessError):
            self.wizard(other, mode="create", name="Sneaky").action_apply()
        employee = self.user("employee_wiz", group="base.group_user")
        with self.assertRaises(AccessError):
            self.env["asterisk_plus.number_wizard"].with_user(employee).create({"number": "+32470123456"})
        self.assertFalse(self.missed.partner_id)

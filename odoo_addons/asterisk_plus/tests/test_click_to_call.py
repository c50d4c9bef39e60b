"""Click-to-call in a real Odoo: the Originates it publishes (after commit), the call record made at once, and
what Asterisk's answers do to it and tell the user (replies through bridge_on_replies, OriginateResponse)."""

import json

from odoo.exceptions import UserError
from odoo.tests import tagged

from . import flows
from .common import code_terms, last_bus_id, notifications
from .test_console_ban_call import RedisCase


@tagged("post_install", "-at_install")
class TestClickToCall(RedisCase):
    def setUp(self):
        super().setUp()
        self.need_redis()
        self.partner = self.env["res.partner"].create({"name": "Customer", "phone": "+32 (2) 555-12.34"})

    def call_from(self, user, **kwargs):
        self.partner.with_user(user).action_asterisk_call(**kwargs)
        return self.last_call(user)

    def requests(self, call):
        return [r["req"] for r in json.loads(call.facts)["@originate"]["reqs"]]

    def originate_reply(self, req, user, status, **fields):
        """Asterisk's answer to the Originate `req` of `user`, as the gateway passes it on."""
        reply = {
            "@type": "reply",
            "@id": req,
            "@uid": str(user.id),
            "@status": status,
            "@request_type": "action",
        }
        return dict(reply, **{"@at": flows.at(0)}, **fields)

    def notes_for(self, user, since):
        return notifications(self.env, user, since, "simple_notification")

    def last_bus_id(self):
        return last_bus_id(self.env)

    def test_every_phone_of_the_user_rings_then_asterisk_dials_the_number(self):
        user = self.agent(
            "agent102",
            "102",
            [
                {"name": "PJSIP/102", "label": "Desk phone"},
                {"name": "PJSIP/102-soft", "label": "Softphone", "auto_answer": True},
            ],
            originate_context="office",
            originate_variables="FOO=bar\n",
        )
        call = self.call_from(user)
        self.assertEqual(self.entries("actions"), [])  # nothing before the commit
        self.commit_hooks()
        desk, soft = self.entries("actions")
        req1, req2 = self.requests(call)
        common = {
            "@type": "action",
            "@server": "asterisk1",
            "@reply_to": "to_odoo",
            "@uid": str(user.id),
            "@user": "agent102",
            "Action": "Originate",
            "Context": "office",
            "Exten": "+3225551234",
            "Priority": "1",
            "Async": "true",
            "Timeout": "30000",
            "CallerID": "Customer <102>",
            "Variable": "FOO=bar",
        }
        self.assertEqual(
            {k: v for k, v in desk.items() if k != "@at"},
            dict(common, **{"@id": req1, "Channel": "PJSIP/102", "ChannelId": f"odoo-{req1}"}),
        )
        self.assertEqual(
            {k: v for k, v in soft.items() if k != "@at"},
            dict(
                common,
                **{
                    "@id": req2,
                    "Channel": "PJSIP/102-soft",
                    "ChannelId": f"odoo-{req2}",
                    "Variable#2": "PJSIP_HEADER(add,Call-Info)=answer-after=0",
                },
            ),
        )
        self.assertEqual(
            (call.status, call.direction, call.called, call.partner_id, call.linkedid, call.request_id),
            ("dialing", "out", "+3225551234", self.partner, f"odoo-{req1}", req1),
        )
        self.assertEqual((call.res_model, call.res_id), ("res.partner", self.partner.id))
        self.assertEqual(sorted(call.leg_ids.mapped("uniqueid")), sorted([f"odoo-{req1}", f"odoo-{req2}"]))
        self.assertIn(user, call.with_user(user).participant_ids)

    def test_the_chosen_phone_alone_rings_in_the_servers_context_by_default(self):
        user = self.agent("agent103", "103", [{"name": "PJSIP/103"}, {"name": "PJSIP/103-soft"}])
        pbx_user = self.env["asterisk_plus.user"].search([("user_id", "=", user.id)])
        pbx_user.write({"originate_mode": "chosen", "originate_channel_id": pbx_user.channel_ids[1].id})
        self.server.write({"originate_context": "from-office", "originate_timeout": 20})
        self.call_from(user)
        self.commit_hooks()
        [entry] = self.entries("actions")
        self.assertEqual(
            (entry["Channel"], entry["Context"], entry["Timeout"]), ("PJSIP/103-soft", "from-office", "20000")
        )
        self.assertNotIn("Variable", entry)

    def test_a_queued_originate_tells_the_user_the_phone_rings(self):
        user = self.agent("agent104", "104", [{"name": "PJSIP/104"}])
        call = self.call_from(user)
        [req] = self.requests(call)
        since = self.last_bus_id()
        reply = self.originate_reply(
            req, user, "ok", Response="Success", Message="Originate successfully queued"
        )
        other = {"@type": "reply", "@id": "x", "@uid": str(user.id), "@status": "ok", "Message": "Pong"}
        results = self.env(user=self.system)["asterisk_plus.server"].bridge_on_replies(
            "asterisk1", [reply, other]
        )
        self.assertEqual(results, [{"status": "ok"}, {"status": "ok"}])
        notes = self.notes_for(user, since)
        self.assertTrue(any(n["message"] == "PJSIP/104 rings: answer it" for n in notes), notes)
        self.assertTrue(any(n["message"] == "Pong" for n in notes), notes)  # other replies as before
        self.assertEqual(call.status, "dialing")
        self.assertIn("Asterisk accepted the call", call.timeline)

    def test_a_refused_originate_fails_the_call_and_tells_the_user_why(self):
        user = self.agent("agent105", "105", [{"name": "PJSIP/105"}])
        call = self.call_from(user)
        [req] = self.requests(call)
        since = self.last_bus_id()
        error = {"@error": "Extension does not exist."}
        reply = self.originate_reply(req, user, "error", Response="Error", **error)
        self.env(user=self.system)["asterisk_plus.server"].bridge_on_replies("asterisk1", [reply])
        self.assertEqual(call.status, "failed")
        self.assertEqual(
            call.reason,
            "Asterisk refused the call: Extension does not exist. (no +3225551234 in context from-internal: "
            "check the PBX user's or the server's context)",
        )
        [note] = [n for n in self.notes_for(user, since) if n["type"] == "danger"]
        self.assertEqual(note["title"], "Call to +3225551234 failed")
        self.assertIn("Extension does not exist", note["message"])
        self.assertTrue(note["sticky"])

    def test_an_originate_response_failure_fails_the_call_and_tells_the_user(self):
        user = self.agent("agent106", "106", [{"name": "PJSIP/6001"}])
        call = self.call_from(user)
        [req] = self.requests(call)
        _key, _synthetic, items = flows.click_to_call_unreachable(req)
        since = self.last_bus_id()
        self.env(user=self.system)["asterisk_plus.call"].on_ami_events("asterisk1", items)
        self.assertEqual(call.status, "failed")
        reason = "PJSIP/6001 could not be called: not registered, unknown or unavailable"
        self.assertEqual(call.reason, reason)
        [note] = [n for n in self.notes_for(user, since) if n["type"] == "danger"]
        self.assertEqual(note["message"], reason)
        # Asterisk's "queued" may come after its OriginateResponse: the user hears no "rings" then.
        reply = self.originate_reply(req, user, "ok", Message="Originate successfully queued")
        since = self.last_bus_id()
        results = self.env(user=self.system)["asterisk_plus.server"].bridge_on_replies("asterisk1", [reply])
        self.assertEqual((results, self.notes_for(user, since)), ([{"status": "ok"}], []))
        self.assertEqual(call.status, "failed")

    def test_the_failure_is_told_in_the_users_language_and_stored_in_the_companys(self):
        code_terms(
            self,
            "fr_FR",
            {
                "Call to %s failed": "Échec de l'appel vers %s",
                "could not be called: not registered, unknown or unavailable": "injoignable",
            },
        )
        user = self.agent("agent107", "107", [{"name": "PJSIP/6001"}])
        user.lang = "fr_FR"
        call = self.call_from(user)
        [req] = self.requests(call)
        _key, _synthetic, items = flows.click_to_call_unreachable(req)
        since = self.last_bus_id()
        self.env(user=self.system)["asterisk_plus.call"].on_ami_events("asterisk1", items)
        self.assertEqual(self.env.company.partner_id.lang, "en_US")
        self.assertEqual(
            call.reason, "PJSIP/6001 could not be called: not registered, unknown or unavailable"
        )
        [note] = [n for n in self.notes_for(user, since) if n["type"] == "danger"]
        self.assertEqual(
            (note["title"], note["message"]), ("Échec de l'appel vers +3225551234", "PJSIP/6001 injoignable")
        )

    def test_ring_all_stops_the_other_phone_when_one_answers_and_the_call_is_answered_when_the_customer_is(
        self,
    ):
        user = self.agent("agent6001", "6001", [{"name": "PJSIP/6001"}, {"name": "PJSIP/6001b"}])
        call = self.call_from(user)
        req1, req2 = self.requests(call)
        self.commit_hooks()
        self.redis.flushdb()
        _key, _synthetic, items = flows.click_to_call_answered(ring_all=True, r1=req1, r2=req2)
        calls = self.env(user=self.system)["asterisk_plus.call"]
        answered = [i for i in items if i["@at"] <= flows.at(2.0)]
        calls.on_ami_events("asterisk1", answered)
        self.commit_hooks()
        [hangup] = self.entries("actions")
        self.assertEqual(
            (hangup["Action"], hangup["Channel"], hangup["Cause"]), ("Hangup", f"odoo-{req2}", "26")
        )
        self.assertEqual(call.status, "up")
        calls.on_ami_events("asterisk1", [i for i in items if i not in answered])
        self.commit_hooks()
        self.assertEqual(len(self.entries("actions")), 1)  # once
        self.assertEqual(
            (call.status, call.answered_channel, call.user_id, call.talk_time),
            ("answered", "PJSIP/trunk-0000000c", user, 60),
        )
        self.assertIn("the other phones stop ringing", call.timeline)
        self.assertEqual(
            len(self.env["asterisk_plus.call"].search([("linkedid", "like", f"odoo-{req2}")])), 0
        )

    def test_a_user_without_extension_or_a_partner_without_number_is_told(self):
        partner = self.env["res.partner"].create({"name": "No number"})
        with self.assertRaisesRegex(UserError, "no phone number"):
            partner.action_asterisk_call()
        partner.phone = "+32 2 555 12 34"
        with self.assertRaisesRegex(UserError, "no extension"):
            partner.with_user(self.plain_user().user).action_asterisk_call()
        self.commit_hooks()
        self.assertEqual(self.entries("actions"), [])

    def test_call_back_dials_the_other_party_of_a_call(self):
        manager = self._user("callmanager107", "asterisk_plus.group_call_manager").user
        self.env["asterisk_plus.user"].create(
            {"user_id": manager.id, "extension": "107", "channel": "PJSIP/107", "server_id": self.server.id}
        )
        key, _synthetic, items = flows.inbound_dial_unregistered()
        self.env(user=self.system)["asterisk_plus.call"].on_ami_events("asterisk1", items)
        missed = self.env["asterisk_plus.call"].search([("linkedid", "=", key)])
        missed.with_user(manager).action_call_back()  # a manager sees every call
        self.commit_hooks()
        [entry] = self.entries("actions")
        self.assertEqual((entry["Exten"], entry["Channel"]), ("+32470123456", "PJSIP/107"))
        back = self.env["asterisk_plus.call"].search([("user_id", "=", manager.id)])
        self.assertEqual((back.direction, back.called, back.status), ("out", "+32470123456", "dialing"))

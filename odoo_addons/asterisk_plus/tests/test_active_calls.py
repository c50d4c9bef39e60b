"""Calls in progress, in a real Odoo with the class's own redis-server: Hang up, Spy / Whisper / Barge (the
AMI actions published after commit), and the live view's news on Odoo's bus."""

import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from . import flows
from .common import last_bus_id, notifications
from .test_recording_policy import ANSWERED_AT, AnsweredCallCase


@tagged("post_install", "-at_install")
class TestHangup(AnsweredCallCase):
    def test_a_participant_hangs_up_the_callers_channel(self):
        call = self.answered()
        call.with_user(self.alice).action_hangup()
        self.assertEqual(
            self.actions(), [{"Action": "Hangup", "Channel": "PJSIP/trunk-00000000", "Cause": "16"}]
        )
        [entry] = self.entries("actions")
        self.assertEqual((entry["@uid"], entry["@reply_to"]), (str(self.alice.id), "to_odoo"))
        self.assertIn("Hung up from Odoo by alice201", call.message_ids.mapped("body")[0])

    def test_another_user_may_not_hang_up_a_call_a_manager_may(self):
        call = self.answered()
        other = self._user("bob202", "asterisk_plus.group_user").user
        with self.assertRaises(AccessError):
            call.with_user(other).action_hangup()
        manager = self._user("boss", "asterisk_plus.group_call_manager").user
        call.with_user(manager).action_hangup()
        self.commit_hooks()
        [entry] = self.entries("actions")
        self.assertEqual(entry["Channel"], "PJSIP/trunk-00000000")
        self.assertNotIn("@reply_to", entry)  # a manager without extension is not told through the bridge

    def test_an_ended_call_cannot_be_hung_up(self):
        self.ingest(self.items)
        call = self.env["asterisk_plus.call"].search([("linkedid", "=", self.key)])
        with self.assertRaisesRegex(UserError, "over"):
            call.with_user(self.alice).action_hangup()
        self.assertEqual(self.actions(), [])


@tagged("post_install", "-at_install")
class TestSupervision(AnsweredCallCase):
    def setUp(self):
        super().setUp()
        self.boss = self.pbx_user("boss", "6009", "PJSIP/6009", "asterisk_plus.group_call_manager")

    def test_spy_whisper_and_barge_ring_the_supervisors_phone_into_chanspy_of_the_users_channel(self):
        call = self.answered()
        for method in ("action_spy", "action_whisper", "action_barge"):
            getattr(call.with_user(self.boss), method)()
        originates = self.actions()
        for originate, entry in zip(originates, self.entries("actions"), strict=True):
            # The supervisor's call has an id of its own, so the recording policy knows it.
            self.assertEqual(originate.pop("ChannelId"), f"odoo-spy-{entry['@id']}")
        common = {
            "Action": "Originate",
            "Channel": "PJSIP/6009",
            "Application": "ChanSpy",
            "Async": "true",
            "Timeout": "30000",
        }
        self.assertEqual(
            originates,
            [
                dict(
                    common, Data="Local/201@phone-devices-00000001;1,qE", CallerID="Spy +32470123456 <6009>"
                ),
                dict(
                    common,
                    Data="Local/201@phone-devices-00000001;1,qwE",
                    CallerID="Whisper +32470123456 <6009>",
                ),
                dict(
                    common,
                    Data="Local/201@phone-devices-00000001;1,qBE",
                    CallerID="Barge +32470123456 <6009>",
                ),
            ],
        )
        self.assertTrue(all(e["@reply_to"] == "to_odoo" for e in self.entries("actions")))
        self.assertIn(
            "Barge by boss on Local/201@phone-devices-00000001;1", call.message_ids.mapped("body")[0]
        )

    def test_click_to_call_spies_on_the_users_phone_not_on_the_customer(self):
        user = self.pbx_user("agent6001", "6001", "PJSIP/6001", "asterisk_plus.group_user")
        key, synthetic, items = flows.click_to_call_answered()
        self.key = key
        self.ingest([i for i in items if i["@at"] <= flows.at(7)])
        call = self.env["asterisk_plus.call"].search([("linkedid", "=", key)])
        self.assertEqual(call.status, "up")
        call.with_user(self.boss).action_whisper()
        [originate] = self.actions()
        self.assertEqual(originate["Data"], "PJSIP/6001-0000000a,qwE")
        self.assertTrue(user)

    def test_a_supervisors_phone_that_cannot_be_called_fails_clearly_and_makes_no_call(self):
        """A real Asterisk 22 with the supervisor's phone unregistered: `Originate successfully queued`, then
        an OriginateResponse Failure (Reason 0) whose Uniqueid is the ChannelId, and the gateway's reply."""
        call = self.answered()
        call.with_user(self.boss).action_spy()
        self.commit_hooks()
        [entry] = self.entries("actions")
        request, channel_id = entry["@id"], f"odoo-spy-{entry['@id']}"
        response = {
            "Event": "OriginateResponse",
            "@id": "g1:900",
            "@at": flows.at(9),
            "ActionID": f"g1-{request}",
            "Response": "Failure",
            "Channel": "PJSIP/6009",
            "Application": "ChanSpy",
            "Reason": "0",
            "Uniqueid": channel_id,
        }
        self.env(user=self.system)["asterisk_plus.call"].on_ami_events("asterisk1", [response])
        calls = self.env["asterisk_plus.call"].search([("linkedid", "like", "odoo-spy-")])
        self.assertFalse(calls, "a phone that never rang is no call")
        error = "PJSIP/6009: the phone could not be called (not registered) (Asterisk reason 0)"
        reply = {
            "@type": "reply",
            "@id": request,
            "@uid": str(self.boss.id),
            "@status": "error",
            "@request_type": "action",
            "@at": flows.at(9),
            "@error": error,
            "Response": "Failure",
            "Reason": "0",
            "Message": error,
        }
        since = last_bus_id(self.env)
        results = self.env(user=self.system)["asterisk_plus.server"].bridge_on_replies("asterisk1", [reply])
        self.assertEqual(results, [{"status": "ok"}])
        [note] = notifications(self.env, self.boss, since, "simple_notification")
        self.assertEqual((note["title"], note["message"], note["type"]), ("Spy failed", error, "danger"))
        self.assertIn(f"Spy failed: {error}", call.message_ids.mapped("body")[0])
        # A supervision that worked: its reply comes once the phone answered; nothing more to say.
        call.with_user(self.boss).action_barge()
        self.commit_hooks()
        request = self.entries("actions")[-1]["@id"]
        since = last_bus_id(self.env)
        ok = dict(reply, **{"@id": request, "@status": "ok", "Response": "Success"})
        ok.pop("@error")
        self.env(user=self.system)["asterisk_plus.server"].bridge_on_replies("asterisk1", [ok])
        self.assertEqual(notifications(self.env, self.boss, since, "simple_notification"), [])

    def test_only_call_managers_with_a_phone_supervise(self):
        call = self.answered()
        with self.assertRaises(AccessError):
            call.with_user(self.alice).action_spy()
        phoneless = self._user("boss2", "asterisk_plus.group_call_manager").user
        with self.assertRaisesRegex(UserError, "no extension"):
            call.with_user(phoneless).action_barge()
        self.assertEqual(self.actions(), [])


@tagged("post_install", "-at_install")
class TestLiveNews(AnsweredCallCase):
    def news(self, since):
        self.env.cr.flush()
        found = self.env["bus.bus"].sudo().search([("id", ">", since)], order="id")
        return [
            (json.loads(n.channel)[1:], json.loads(n.message)["payload"])
            for n in found
            if json.loads(n.message)["type"] == "asterisk_plus.active_calls"
        ]

    def test_managers_and_the_calls_users_hear_that_a_call_moved_on(self):
        manager = self._user("boss", "asterisk_plus.group_call_manager").user
        group = self.env.ref("asterisk_plus.group_call_manager")
        since = last_bus_id(self.env)
        call = self.answered()
        news = self.news(since)
        self.assertIn((["res.groups", group.id], {"call_ids": [call.id]}), news)
        self.assertIn((["res.partner", self.alice.partner_id.id], {"call_ids": [call.id]}), news)
        self.assertNotIn(
            manager.partner_id.id, [channel[1] for channel, _p in news if channel[0] == "res.partner"]
        )
        since = last_bus_id(self.env)
        self.ingest([i for i in self.items if i["@at"] <= ANSWERED_AT])  # the same events again: no news
        self.assertEqual(self.news(since), [])
        self.rest()
        self.assertIn((["res.groups", group.id], {"call_ids": [call.id]}), self.news(since))
        self.assertEqual(call.status, "answered")

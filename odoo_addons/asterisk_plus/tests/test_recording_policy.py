"""The recording policy in a real Odoo with the class's own redis-server: the AMI MixMonitor the journal
publishes (after commit) when a call it records is answered, on the channel that answered, once."""

from typing import ClassVar

from odoo.tests import tagged

from . import flows
from .test_console_ban_call import RedisCase

# ring_group_answered: extension 201 answered on its second device, still talking
ANSWERED_AT = flows.at(1.06)


class AnsweredCallCase(RedisCase):
    """A ring group call (flows.ring_group_answered) answered by alice on extension 201, still on."""

    def setUp(self):
        super().setUp()
        self.need_redis()
        self.key, _synthetic, self.items = flows.ring_group_answered()
        self.alice = self.pbx_user("alice201", "201", "Local/201@phone-devices", "asterisk_plus.group_user")
        self.server.recording_policy = "none"

    def pbx_user(self, login, extension, phone, group, **values):
        user = self._user(login, group).user
        self.env["asterisk_plus.user"].create(
            dict(
                {
                    "user_id": user.id,
                    "extension": extension,
                    "server_id": self.server.id,
                    "channel_ids": [(0, 0, {"name": phone})],
                },
                **values,
            )
        )
        return user

    def ingest(self, items):
        self.env(user=self.system)["asterisk_plus.call"].on_ami_events("asterisk1", items)
        return self.env["asterisk_plus.call"].search([("linkedid", "=", self.key)])

    def answered(self):
        return self.ingest([i for i in self.items if i["@at"] <= ANSWERED_AT])

    def rest(self):
        return self.ingest([i for i in self.items if i["@at"] > ANSWERED_AT])

    def actions(self):
        self.commit_hooks()
        return [{k: v for k, v in e.items() if not k.startswith("@")} for e in self.entries("actions")]


@tagged("post_install", "-at_install")
class TestRecordingPolicy(AnsweredCallCase):
    MIXMONITOR: ClassVar[dict[str, str]] = {
        "Action": "MixMonitor",
        "Channel": "Local/201@phone-devices-00000001;1",  # the channel that answered
        "File": "/var/spool/asterisk/monitor/rec-1796104207.3.wav",
    }

    def test_every_answered_call_is_recorded_once_by_a_mixmonitor_after_commit(self):
        self.server.recording_policy = "all"
        call = self.answered()
        self.assertEqual(call.status, "up")
        self.assertEqual(self.entries("actions"), [])  # nothing before the commit
        self.assertEqual(self.actions(), [self.MIXMONITOR])
        self.assertEqual(call.recording_requested, "1796104207.3")
        self.rest()
        self.assertEqual(self.actions(), [self.MIXMONITOR])  # once

    def test_the_users_policy_leaves_the_calls_of_users_not_marked_alone(self):
        self.server.recording_policy = "users"
        self.answered()
        self.assertEqual(self.actions(), [])

    def test_the_users_policy_records_the_calls_of_a_marked_user_into_the_servers_directory(self):
        self.server.write({"recording_policy": "users", "recordings_dir": "/srv/rec/"})
        self.env["asterisk_plus.user"].search([("user_id", "=", self.alice.id)]).record_calls = True
        self.answered()
        self.assertEqual(self.actions(), [dict(self.MIXMONITOR, File="/srv/rec/rec-1796104207.3.wav")])

    def test_no_policy_or_the_dialplans_records_nothing_from_odoo(self):
        for policy in ("none", "dialplan"):
            self.server.recording_policy = policy
            self.answered()
        self.assertEqual(self.actions(), [])
        self.assertIn(
            "MixMonitor(/var/spool/asterisk/monitor/rec-${UNIQUEID}.wav,b)", self.server.recording_dialplan
        )

    def test_a_call_over_before_odoo_heard_of_its_answer_is_not_recorded(self):
        self.server.recording_policy = "all"
        self.ingest(self.items)
        self.assertEqual(self.actions(), [])

    def test_a_supervisors_chanspy_call_is_never_recorded(self):
        self.server.recording_policy = "all"
        key, _synthetic, items = flows.click_to_call_answered(r1="spy-0123")
        self.key = key
        self.assertEqual(key, "odoo-spy-0123")
        self.assertEqual(self.ingest([i for i in items if i["@at"] <= flows.at(7)]).status, "up")
        self.assertEqual(self.actions(), [])

"""The hook other modules extend when calls end missed (`_on_missed_calls`, models/call_outcome.py): called
once per call that just became missed, with the server, after the batch is written; never for answered calls;
a hook that fails loses no call."""

from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from . import flows
from .test_calls import CallCase


@tagged("post_install", "-at_install")
class TestMissedCallHook(CallCase):
    def watch(self, fail=False):
        """Record each call of the hook as ([call ids], server name, [their statuses then])."""
        seen = []
        model = type(self.env["asterisk_plus.call"])
        original = model._on_missed_calls

        def hook(calls, server):
            seen.append((sorted(calls.ids), server.name, calls.mapped("status")))
            if fail:
                raise ValueError("a module's hook failed")
            return original(calls, server)

        patcher = patch.object(model, "_on_missed_calls", hook)
        patcher.start()
        self.addCleanup(patcher.stop)
        return seen

    def test_a_missed_call_calls_the_hook_once_even_in_several_batches_and_redelivered(self):
        seen = self.watch()
        key, _synthetic, items = flows.ring_group_missed()
        self.deliver(items[:7])
        self.assertEqual(seen, [])  # still ringing
        self.deliver(items[7:])
        call = self.call(key)
        self.assertEqual(seen, [([call.id], "asterisk1", ["missed"])])
        self.deliver(items)  # redelivered: duplicates
        self.deliver([dict(items[-1], **{"@id": "i:late"})])  # a late Cdr of a call missed already
        self.assertEqual(len(seen), 1)

    def test_an_abandoned_queue_call_is_missed_and_answered_calls_never_call_the_hook(self):
        seen = self.watch()
        for name in ("ring_group_answered", "queue_answered", "inbound_answered_without_dial"):
            self.deliver(flows.FLOWS[name]()[2])
        self.assertEqual(seen, [])
        key, _synthetic, items = flows.queue_abandoned()
        self.deliver(items)
        self.assertEqual(seen, [([self.call(key).id], "asterisk1", ["missed"])])

    def test_a_failing_hook_loses_no_call(self):
        seen = self.watch(fail=True)
        key, _synthetic, items = flows.ring_group_missed()
        with mute_logger("odoo.addons.asterisk_plus.models.call_outcome"):
            results = self.deliver(items)
        self.assertEqual({r["status"] for r in results}, {"ok"})
        self.assertEqual(len(seen), 1)
        self.assertEqual(self.call(key).status, "missed")

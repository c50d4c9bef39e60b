"""The call journal in a real Odoo: real flows through on_ami_events, set-based batches, a bad item isolated,
merges, concurrent workers, record rules, the partner's chatter, the timezone warning, retention."""

import json
import random
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .. import call_state
from ..models.call_ingest import ConcurrentUpdate
from . import flows
from .common import ServerCase, code_terms, forget_existing_numbers

INBOUND = ("inbound_answered_without_dial", "inbound_dial_unregistered", "queue_answered", "queue_abandoned")


class CallCase(ServerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.country = cls.env.ref("base.be")

    def setUp(self):
        super().setUp()
        forget_existing_numbers(self.env)

    def deliver(self, items):
        return self.env(user=self.system)["asterisk_plus.call"].on_ami_events("asterisk1", items)

    def call(self, key):
        return self.env["asterisk_plus.call"].search(
            [("server_id", "=", self.server.id), ("linkedid", "=", key)]
        )

    def user(self, login, group="asterisk_plus.group_user", extension=None, phone=None):
        user = self.env["res.users"].create(
            {
                "name": login,
                "login": login,
                "email": f"{login}@example.com",
                "groups_id": [(6, 0, [self.env.ref(group).id])],
            }
        )
        if extension:
            self.env["asterisk_plus.user"].create(
                {"user_id": user.id, "extension": extension, "channel": phone, "server_id": self.server.id}
            )
        return user

    def undo(self):
        """A savepoint to roll back, so one test can replay the same call several ways."""
        savepoint = self.env.cr.savepoint()
        self.addCleanup(savepoint.close, rollback=True)
        return savepoint


@tagged("post_install", "-at_install")
class TestCallJournal(CallCase):
    def test_every_real_flow_is_stored_as_the_call_state_says_in_any_order_and_batching(self):
        rng = random.Random(14)
        for name in INBOUND + ("local_chain_originate",):
            key, synthetic, items = flows.FLOWS[name]()
            expected = call_state.summarize(call_state.fold(dict(synthetic), items), key)
            shuffled = rng.sample(items, len(items))
            for way, batches in (
                ("one batch", [items]),
                ("one event a batch", [[item] for item in items]),
                ("shuffled, batches of 3", [shuffled[i : i + 3] for i in range(0, len(shuffled), 3)]),
            ):
                with self.subTest(flow=name, way=way):
                    savepoint = self.env.cr.savepoint()
                    try:
                        for batch in batches:
                            self.assertEqual({r["status"] for r in self.deliver(batch)}, {"ok"})
                        call = self.call(key)
                        self.assertEqual(len(call), 1)
                        self.assertEqual(
                            (call.status, call.direction, call.answered, call.talk_time, call.ring_time),
                            (
                                expected["status"],
                                expected["direction"],
                                expected["answered"],
                                expected["talk_time"],
                                expected["ring_time"],
                            ),
                        )
                        self.assertEqual(
                            sorted(call.leg_ids.mapped("uniqueid")),
                            sorted(x["uniqueid"] for x in expected["legs"]),
                        )
                    finally:
                        savepoint.close(rollback=True)

    def test_an_inbound_call_answered_by_the_dialplan_is_answered_and_finds_its_partner(self):
        partner = self.env["res.partner"].create(
            {"name": "Customer", "mobile": "0470 12 34 56", "country_id": self.country.id}
        )
        key, _synthetic, items = flows.inbound_answered_without_dial()
        self.deliver(items)
        call = self.call(key)
        self.assertEqual(
            (call.status, call.direction, call.caller, call.called, call.answered_by_dialplan),
            ("answered", "in", "+32470123456", "101", True),
        )
        self.assertEqual(call.partner_id, partner)
        self.assertEqual(
            (str(call.started_at), call.talk_time, call.ring_time), ("2026-12-01 04:10:18", 3, 0)
        )
        self.assertEqual(partner.asterisk_call_count, 1)
        self.assertIn("hung up (Normal Clearing)", call.timeline)

    def test_the_timeline_is_in_the_readers_language(self):
        code_terms(self, "fr_FR", {"%s: hung up (%s)": "%s : raccroché (%s)"})
        key, _synthetic, items = flows.inbound_answered_without_dial()
        self.deliver(items)
        call = self.call(key)
        english = call.timeline
        self.assertIn(": hung up (Normal Clearing)", english)
        french = call.with_context(lang="fr_FR").timeline  # computed again: it depends on the language
        self.assertIn(" : raccroché (Normal Clearing)", french)
        self.assertNotIn("hung up", french)
        self.assertEqual(call.with_context(lang="en_US").timeline, english)

    def test_a_call_to_an_unregistered_phone_is_the_missed_call_of_its_extensions_user(self):
        user = self.user("user101", extension="101", phone="PJSIP/101")
        key, _synthetic, items = flows.inbound_dial_unregistered()
        self.deliver(items)
        call = self.call(key)
        self.assertEqual((call.status, call.called, call.user_id), ("missed", "101", user))
        self.assertIn(user, call.participant_ids)

    def test_a_queue_call_says_who_answered_and_a_caller_who_gave_up_is_missed(self):
        agent = self.user("agent100", extension="100", phone="PJSIP/100")
        key, _synthetic, items = flows.queue_answered()
        self.deliver(items)
        call = self.call(key)
        self.assertEqual(
            (call.status, call.answered_user_id, call.answered_member, call.queue, call.user_id),
            ("answered", agent, "Agent100", "support", agent),
        )
        self.assertIn(agent, call.participant_ids)
        roles = {leg.uniqueid: leg.role for leg in call.leg_ids}
        self.assertEqual(roles, {key: "Caller", "1796100902.12": "Answered", "1796100902.13": ""})
        key, _synthetic, items = flows.queue_abandoned()
        self.deliver(items)
        missed = self.call(key)
        self.assertEqual((missed.status, missed.abandoned, missed.answered), ("missed", True, False))
        self.assertEqual(missed.reason, "The caller gave up waiting in queue support")

    def test_redelivered_events_are_duplicates_and_change_nothing(self):
        key, _synthetic, items = flows.queue_answered()
        first = self.deliver(items[:5] + items[:2])
        self.assertEqual([r["status"] for r in first], ["ok"] * 5 + ["duplicate"] * 2)
        again = self.deliver(items)
        self.assertEqual([r["status"] for r in again], ["duplicate"] * 5 + ["ok"] * (len(items) - 5))
        self.assertEqual(self.call(key).status, "answered")
        self.assertEqual(self.deliver(items), [{"status": "duplicate"}] * len(items))

    def test_a_bad_item_gets_an_error_and_the_rest_of_its_batch_lands(self):
        key, _synthetic, items = flows.inbound_answered_without_dial()
        other_key, _s, other = flows.inbound_dial_unregistered()
        bad = dict(items[3], **{"@utc": "not a dict", "@id": "a:bad"})
        results = self.deliver(items[:3] + [bad] + other)
        self.assertEqual([r["status"] for r in results], ["ok"] * 3 + ["error"] + ["ok"] * len(other))
        self.assertIn("AttributeError", results[3]["error"])
        self.assertEqual(self.call(key).status, "answered")  # the Hangup ended it; the Cdr was not needed
        self.assertEqual(self.call(other_key).status, "missed")
        self.assertEqual(self.deliver([items[3]]), [{"status": "ok"}])  # the good Cdr is still new

    def test_a_batch_costs_the_same_queries_for_4_calls_as_for_20(self):
        """Set-based: searches, creates and the event ids do not grow with the batch; writes grow per call
        on Odoo 17 (one UPDATE per distinct set of values), not on 18 (one UPDATE for all)."""

        def batch(count, tag):
            out = []
            for n in range(count):
                key, _synthetic, items = flows.inbound_answered_without_dial()
                for item in items:
                    item = json.loads(json.dumps(item).replace(key, f"{tag}.{n}"))
                    item["@id"] = f"{tag}{n}:{item['@id']}"
                    out.append(item)
            return out

        def queries(items):
            self.env.flush_all()
            self.env.invalidate_all()
            done = []
            execute = type(self.env.cr).execute

            def spy(cr, query, params=None, log_exceptions=True):
                done.append(str(query).split("VALUES")[0].split("WHERE")[0][:200])
                return execute(cr, query, params, log_exceptions)

            with patch.object(type(self.env.cr), "execute", spy):
                self.assertEqual({r["status"] for r in self.deliver(items)}, {"ok"})
            return done

        def opening(items):
            return [item for item in items if item["Event"] in ("Newchannel", "Newstate")]

        def closing(items):
            return [item for item in items if item["Event"] in ("Hangup", "Cdr")]

        warm = batch(4, "w")
        queries(opening(warm))  # caches filled
        queries(closing(warm))
        four, twenty = batch(4, "q"), batch(20, "r")
        small, large = queries(opening(four)), queries(opening(twenty))
        differ = [q for q in large if q not in small] + [q for q in small if q not in large]
        # One query either way is Odoo's own caching (e.g. the current user read again), not the batch size.
        self.assertLessEqual(abs(len(large) - len(small)), 1, f"new calls: queries do not grow: {differ}")
        small, large = queries(closing(four)), queries(closing(twenty))
        self.assertLessEqual(len(large) - len(small), 16 * 2, "ended calls: at most two queries more a call")
        self.assertEqual(self.call("r.19").status, "answered")

    def test_a_cdr_that_came_before_its_channel_named_the_call_is_merged_into_it(self):
        key, _synthetic, items = flows.queue_answered()
        member_cdr = next(i for i in items if i["Event"] == "Cdr" and i["UniqueID"] == "1796100902.13")
        self.deliver([member_cdr])
        self.assertEqual(len(self.call("1796100902.13")), 1)  # a call of its own, for now
        self.deliver([i for i in items if i is not member_cdr])
        self.assertFalse(self.call("1796100902.13"))
        call = self.call(key)
        self.assertEqual(call.status, "answered")
        self.assertIn("1796100902.13", call.leg_ids.mapped("uniqueid"))
        self.assertIn("CDR Local/100@demo-00000004;2", call.timeline)

    def test_a_cdr_in_the_wrong_timezone_warns_on_the_server_and_a_right_one_clears_it(self):
        key, _synthetic, items = flows.inbound_answered_without_dial()
        cdr = items[3]
        shifted = {k: flows.cdr_time(-3600 + 3 * (k == "EndTime")) for k in cdr["@utc"]}
        self.deliver(items[:3] + [dict(cdr, **{"@utc": shifted})])
        self.assertIn("Asterisk's timezone differs from the server's", self.server.tz_warning)
        self.assertIn("60 minutes later", self.server.tz_warning)
        self.assertEqual(self.call(key).duration, 3)  # the Hangup's own time, not the Cdr's
        other_key, _s, other = flows.queue_answered()
        self.deliver(other)
        self.assertFalse(self.server.tz_warning)

    def test_every_ended_call_is_written_once_on_its_partners_chatter_when_the_server_says_so(self):
        partner = self.env["res.partner"].create({"name": "Customer", "phone": "+32 470 12 34 56"})
        self.server.log_calls_on_partner = True
        key, _synthetic, items = flows.inbound_answered_without_dial()
        before = len(partner.message_ids)
        self.deliver(items[:2])
        self.assertEqual(len(partner.message_ids), before)  # not ended yet
        self.deliver(items[2:])
        self.deliver([dict(items[3], **{"@id": "a:again"})])
        partner.invalidate_recordset(["message_ids"])
        notes = partner.message_ids[: len(partner.message_ids) - before]
        self.assertEqual(len(notes), 1)
        self.assertIn("Incoming call, answered: +32470123456", notes.body)


@tagged("post_install", "-at_install")
class TestCallAccess(CallCase):
    def test_users_see_the_calls_they_took_part_in_managers_and_admins_all(self):
        agent = self.user("agent100", extension="100", phone="PJSIP/100")
        other = self.user("agent200", extension="200", phone="PJSIP/200")
        manager = self.user("callmanager", "asterisk_plus.group_call_manager")
        admin = self.user("pbxadmin2", "asterisk_plus.group_admin")
        key, _synthetic, items = flows.queue_answered()
        self.deliver(items)
        call = self.call(key)
        calls = self.env["asterisk_plus.call"]
        self.assertEqual(calls.with_user(agent).search([("id", "=", call.id)]), call)
        self.assertFalse(calls.with_user(other).search([("id", "=", call.id)]))
        with self.assertRaises(AccessError):
            call.with_user(other).read(["caller"])
        self.assertEqual(calls.with_user(manager).search([("id", "=", call.id)]), call)
        self.assertEqual(calls.with_user(admin).search([("id", "=", call.id)]), call)
        self.assertEqual(len(call.with_user(agent).leg_ids), 3)
        self.assertFalse(
            self.env["asterisk_plus.call.leg"].with_user(other).search([("call_id", "=", call.id)])
        )
        call.with_user(agent).message_post(body="called back, all fine")  # participants may write on it
        with self.assertRaises(AccessError):
            call.with_user(agent).write({"caller": "x"})


@tagged("post_install", "-at_install")
class TestRetention(CallCase):
    def test_old_event_ids_and_old_calls_are_forgotten_as_the_server_says(self):
        key, _synthetic, items = flows.inbound_answered_without_dial()
        self.deliver(items)
        old = fields.Datetime.now() - timedelta(days=10)
        self.env.cr.execute(
            "UPDATE asterisk_plus_processed_event SET create_date = %s WHERE name LIKE 'a:%%'", [old]
        )
        self.call(key).started_at = old
        self.server.write({"keep_event_ids_days": 7, "keep_calls_days": 0})
        self.env["asterisk_plus.server"].search([("id", "!=", self.server.id)]).write(
            {"keep_event_ids_days": 7}
        )
        self.env["asterisk_plus.server"]._cron_call_retention()
        processed = self.env["asterisk_plus.processed_event"].search([("name", "=like", "a:%")])
        self.assertFalse(processed)
        self.assertTrue(self.call(key))  # calls are kept for ever unless the server says otherwise
        self.server.keep_calls_days = 9
        self.env["asterisk_plus.server"]._cron_call_retention()
        self.assertFalse(self.call(key))
        cron = self.env.ref("asterisk_plus.cron_call_retention")
        self.assertEqual((cron.interval_type, cron.code), ("days", "model._cron_call_retention()"))


@tagged("post_install", "-at_install")
class TestConcurrentWorkers(TransactionCase):
    """Two workers create the same call: the loser asks Odoo to run the request again, and then merges."""

    def test_a_call_created_meanwhile_by_another_worker_is_a_serialization_failure_then_merges(self):
        server = self.env.ref("asterisk_plus.server_asterisk1")
        system = self.env.ref("asterisk_plus.user_asterisk1")
        key, _synthetic, items = flows.inbound_answered_without_dial()
        key2 = "race-" + self.env.cr.dbname
        items = [json.loads(json.dumps(i).replace(key, key2).replace('"a:', '"race:')) for i in items]
        self.env["asterisk_plus.call"].search_count([])  # this transaction's snapshot starts here

        def other_worker(batch):
            with self.registry.cursor() as cr:
                env = self.env(cr=cr, user=system.id)
                env["asterisk_plus.call"].on_ami_events("asterisk1", batch)
                cr.commit()

        def cleanup():
            with self.registry.cursor() as cr:
                cr.execute("DELETE FROM asterisk_plus_call WHERE linkedid = %s", [key2])
                cr.execute("DELETE FROM asterisk_plus_call_leg WHERE uniqueid = %s", [key2])
                cr.execute("DELETE FROM asterisk_plus_processed_event WHERE name LIKE 'race:%%'")
                cr.commit()

        self.addCleanup(cleanup)
        other_worker(items[:1])
        with self.assertRaises(ConcurrentUpdate) as caught, mute_logger("odoo.sql_db"):
            self.env(user=system)["asterisk_plus.call"].on_ami_events("asterisk1", items[1:])
        self.assertEqual(caught.exception.pgcode, "40001")  # what Odoo's RPC layer retries
        other_worker(items[1:])  # the retry, in a new transaction that sees the other's call
        with self.registry.cursor() as cr:
            env = self.env(cr=cr)
            call = env["asterisk_plus.call"].search([("server_id", "=", server.id), ("linkedid", "=", key2)])
            self.assertEqual((len(call), call.status), (1, "answered"))

"""The recordings the agent sends, in a real Odoo (docs/odoo-api.md, "Recordings"): chunks staged in any order
and once, the summary that assembles and checks them into one attachment of the call, a recording that came
before its call attached when the call comes, and what is refused. The items are written into the class's own
redis-server first, as the agent would, and handed over with their entry id (`@entry`)."""

import hashlib

from odoo.exceptions import AccessError
from odoo.tests import tagged

from . import flows
from .recording_items_for_tests import MP3, recording
from .test_console_ban_call import RedisCase


class RecordingCase(RedisCase):
    def setUp(self):
        super().setUp()
        self.need_redis()
        self.as_system = self.env(user=self.system)
        self.recordings = self.as_system["asterisk_plus.recording"]

    def on_bus(self, item):
        entry = self.redis.xadd("pbxtest:asterisk1:recordings", item)
        return dict(item, **{"@entry": entry})

    def send(self, chunks, summary=None):
        """The bridge's calls: the chunks, then the summary; (chunk results, summary result)."""
        results = self.recordings.bridge_on_chunks("asterisk1", chunks) if chunks else []
        verdict = self.recordings.bridge_on_recordings("asterisk1", [summary]) if summary else None
        return results, verdict

    def ingest(self, items):
        self.as_system["asterisk_plus.call"].on_ami_events("asterisk1", items)

    def stored(self, key):
        return self.env["asterisk_plus.recording"].search([("key", "=", key)])

    def staged(self, key):
        return self.env["asterisk_plus.recording.chunk"].search_count([("recording", "=", key)])


@tagged("post_install", "-at_install")
class TestRecordingContract(RecordingCase):
    def test_chunks_in_any_order_and_twice_make_one_attachment_on_its_call(self):
        key, _synthetic, items = flows.ring_group_answered()
        self.ingest(items)
        call = self.env["asterisk_plus.call"].search([("linkedid", "=", key)])
        chunks, summary = recording(chunk_bytes=3000)
        chunks = [self.on_bus(c) for c in chunks]
        self.assertEqual(len(chunks), 4)
        first, again = (
            self.send([chunks[3], chunks[1]]),
            self.send([chunks[0], chunks[1], chunks[2], chunks[0]]),
        )
        self.assertEqual(first[0], [{"status": "ok"}] * 2)
        self.assertEqual(
            again[0], [{"status": "ok"}, {"status": "duplicate"}, {"status": "ok"}, {"status": "duplicate"}]
        )
        self.assertEqual(self.staged(summary["@id"]), 4)
        _results, verdict = self.send([], self.on_bus(summary))
        self.assertEqual(verdict, [{"status": "ok"}])
        rec = self.stored(summary["@id"])
        self.assertEqual(
            (rec.call_id, rec.status, rec.uniqueid, rec.linkedid, rec.file, rec.size, rec.duration),
            (call, "ok", "1796104207.3", key, "rec-1796104207.3.wav", len(MP3), 12.5),
        )
        attachment = rec.attachment_id
        self.assertEqual(
            (attachment.name, attachment.mimetype, attachment.res_model, attachment.res_id),
            ("rec-1796104207.3.mp3", "audio/mpeg", "asterisk_plus.call", call.id),
        )
        self.assertEqual(attachment.raw, MP3)
        self.assertEqual(attachment.description, "rec-1796104207.3.wav")
        self.assertEqual(rec.audio_url, f"/web/content/{attachment.id}")
        self.assertTrue(call.has_recording)
        self.assertEqual(call.recording_url, rec.audio_url)
        self.assertEqual(self.staged(summary["@id"]), 0)  # the staged chunks are gone
        # The summary or a chunk again (a lost verdict, a redelivery): nothing more.
        self.assertEqual(
            self.send([chunks[2]], self.on_bus(summary)),
            ([{"status": "duplicate"}], [{"status": "duplicate"}]),
        )
        self.assertEqual(len(self.env["asterisk_plus.recording"].search([("key", "=", summary["@id"])])), 1)
        self.assertEqual(self.staged(summary["@id"]), 0)

    def test_a_bad_sha256_or_a_missing_chunk_is_an_error_and_nothing_is_stored(self):
        mp3s = self.env["ir.attachment"].search_count([("mimetype", "=", "audio/mpeg")])
        chunks, bad = recording(chunk_bytes=3000, sha256=hashlib.sha256(b"other audio").hexdigest())
        results, verdict = self.send([self.on_bus(c) for c in chunks], self.on_bus(bad))
        self.assertEqual(results, [{"status": "ok"}] * 4)
        self.assertEqual(verdict[0]["status"], "error")
        self.assertIn("do not make the recording announced", verdict[0]["error"])
        chunks, gap = recording(file="rec-1796104207.9.wav", chunk_bytes=3000)
        _results, verdict = self.send([self.on_bus(c) for c in chunks[:2] + chunks[3:]], self.on_bus(gap))
        self.assertEqual(verdict[0]["status"], "error")
        self.assertRegex(verdict[0]["error"], r"chunks missing for [0-9a-f]{12}: \[2\]")
        self.assertFalse(self.stored(bad["@id"]) | self.stored(gap["@id"]))
        self.assertEqual(self.env["ir.attachment"].search_count([("mimetype", "=", "audio/mpeg")]), mp3s)
        # Sent again whole, the recording is taken: what was staged still counts.
        _results, verdict = self.send([self.on_bus(chunks[2])], self.on_bus(gap))
        self.assertEqual(verdict, [{"status": "ok"}])
        self.assertEqual(self.stored(gap["@id"]).attachment_id.raw, MP3)

    def test_a_recording_before_its_call_is_kept_and_attached_when_the_call_comes(self):
        key, _synthetic, items = flows.ring_group_answered()
        chunks, summary = recording()
        _results, verdict = self.send([self.on_bus(c) for c in chunks], self.on_bus(summary))
        self.assertEqual(verdict, [{"status": "ok"}])  # "no such call" is never an error
        rec = self.stored(summary["@id"])
        self.assertFalse(rec.call_id)
        self.assertFalse(rec.attachment_id.res_id)
        self.ingest(items)
        call = self.env["asterisk_plus.call"].search([("linkedid", "=", key)])
        self.assertEqual(rec.call_id, call)
        self.assertEqual(
            (rec.attachment_id.res_model, rec.attachment_id.res_id), ("asterisk_plus.call", call.id)
        )
        self.assertTrue(call.has_recording)

    def test_a_recording_with_only_its_channels_uniqueid_finds_the_call_by_its_leg(self):
        key, _synthetic, items = flows.ring_group_answered()
        self.ingest(items)
        chunks, summary = recording(linkedid="")
        self.send([self.on_bus(c) for c in chunks], self.on_bus(summary))
        call = self.env["asterisk_plus.call"].search([("linkedid", "=", key)])
        self.assertEqual(self.stored(summary["@id"]).call_id, call)

    def test_a_recording_on_a_call_made_under_a_channel_follows_it_when_it_is_merged(self):
        """A Cdr alone makes a call under its channel's Uniqueid; the recording (no Linkedid) goes to it. When
        the call's other events come, that call is merged into the right one; the recording moves along."""
        key, _synthetic, items = flows.ring_group_answered()
        cdr = next(i for i in items if i["Event"] == "Cdr" and i["UniqueID"] == "1796104207.2")
        self.ingest([cdr])
        early = self.env["asterisk_plus.call"].search([("linkedid", "=", "1796104207.2")])
        self.assertTrue(early)
        chunks, summary = recording(uniqueid="1796104207.2", linkedid="", file="rec-1796104207.2.wav")
        self.send([self.on_bus(c) for c in chunks], self.on_bus(summary))
        rec = self.stored(summary["@id"])
        self.assertEqual(rec.call_id, early)
        self.ingest([i for i in items if i is not cdr])
        call = self.env["asterisk_plus.call"].search([("linkedid", "=", key)])
        self.assertFalse(early.exists())
        self.assertEqual(rec.call_id, call)
        self.assertEqual(rec.attachment_id.res_id, call.id)
        self.assertEqual(rec.attachment_id.raw, MP3)

    def test_a_file_without_audio_is_kept_as_a_report_that_says_why(self):
        _chunks, summary = recording(status="empty", reason="nobody spoke: 44 bytes of header")
        self.assertEqual(self.send([], self.on_bus(summary))[1], [{"status": "ok"}])
        rec = self.stored(summary["@id"])
        self.assertEqual(
            (rec.status, rec.reason, rec.attachment_id, rec.size),
            ("empty", summary["reason"], rec.attachment_id.browse(), 0),
        )
        _chunks, silent = recording(status="truncated", file="rec-1796104207.7.wav")
        verdict = self.send([], self.on_bus(silent))[1]
        self.assertEqual(verdict, [{"status": "error", "error": "a truncated recording says why (reason)"}])


@tagged("post_install", "-at_install")
class TestRecordingRefusals(RecordingCase):
    def test_what_is_not_on_the_bus_is_refused(self):
        chunks, summary = recording()
        forged = dict(chunks[0], **{"@entry": self.redis.xadd("pbxtest:asterisk1:recordings", {"x": "1"})})
        elsewhere = dict(chunks[1], **{"@entry": self.redis.xadd("pbxtest:asterisk1:to_odoo", chunks[1])})
        results, verdict = self.send([forged, elsewhere], dict(summary, **{"@entry": "1-0"}))
        self.assertEqual(results, [{"status": "error", "error": "no such recording.chunk on the bus"}] * 2)
        self.assertEqual(verdict, [{"status": "error", "error": "no such recording on the bus"}])
        # The summary on the bus, but the item says another size than the entry does.
        on_bus = self.on_bus(summary)
        self.assertEqual(self.send([], dict(on_bus, size="1"))[1][0]["status"], "error")
        self.assertFalse(self.staged(summary["@id"]))
        self.assertFalse(self.stored(summary["@id"]))

    def test_a_malformed_chunk_is_an_error_the_others_are_staged(self):
        chunks, _summary = recording()
        bad = self.on_bus(dict(chunks[0], data="%%%"))
        results, _verdict = self.send([bad, self.on_bus(chunks[1])])
        self.assertEqual(results[0]["status"], "error")
        self.assertIn("not base64", results[0]["error"])
        self.assertEqual(results[1], {"status": "ok"})

    def test_only_the_servers_system_account_delivers(self):
        chunks, summary = recording()
        admin = self._user("pbxadmin", "asterisk_plus.group_admin")
        for env in (admin, self.env(user=self.env.ref("base.user_admin"))):
            with self.assertRaises(AccessError):
                env["asterisk_plus.recording"].bridge_on_chunks("asterisk1", [self.on_bus(chunks[0])])
            with self.assertRaises(AccessError):
                env["asterisk_plus.recording"].bridge_on_recordings("asterisk1", [self.on_bus(summary)])
        self.assertFalse(self.staged(summary["@id"]))

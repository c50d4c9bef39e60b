"""How long Odoo keeps recordings, in a real Odoo: the retention cron deletes those older than their server's
days (with their MP3), never one kept for ever nor a younger one; staged chunks whose summary never came are
dropped after a day; the server form shows the storage used."""

from datetime import timedelta

from odoo import fields, release
from odoo.tests import TransactionCase, tagged

from .recording_items_for_tests import MP3


@tagged("post_install", "-at_install")
class TestRecordingRetention(TransactionCase):
    def setUp(self):
        super().setUp()
        self.server = self.env.ref("asterisk_plus.server_asterisk1")
        self.env["asterisk_plus.recording"].search([("server_id", "=", self.server.id)]).unlink()

    def recording(self, name, days_ago, keep=False):
        attachment = self.env["ir.attachment"].create({"name": name, "raw": MP3, "mimetype": "audio/mpeg"})
        return self.env["asterisk_plus.recording"].create(
            {
                "name": name,
                "server_id": self.server.id,
                "key": name.ljust(64, "0"),
                "status": "ok",
                "size": len(MP3),
                "keep": keep,
                "attachment_id": attachment.id,
                "recorded_at": fields.Datetime.now() - timedelta(days=days_ago),
            }
        )

    def test_old_recordings_go_kept_and_young_ones_stay(self):
        self.server.keep_recordings_days = 30
        old, kept, young = (
            self.recording("old", 40),
            self.recording("kept", 400, keep=True),
            self.recording("young", 10),
        )
        old_mp3 = old.attachment_id
        self.env["asterisk_plus.recording"]._cron_recording_retention()
        self.assertFalse(old.exists())
        self.assertFalse(old_mp3.exists())
        self.assertEqual((kept.exists(), young.exists()), (kept, young))
        self.assertTrue(kept.attachment_id.exists())

    def test_zero_days_keeps_everything(self):
        self.server.keep_recordings_days = 0
        ancient = self.recording("ancient", 4000)
        self.env["asterisk_plus.recording"]._cron_recording_retention()
        self.assertTrue(ancient.exists())

    def test_chunks_whose_summary_never_came_are_dropped_after_a_day(self):
        chunks = self.env["asterisk_plus.recording.chunk"]
        stale, fresh = (
            chunks.create(
                {"server_id": self.server.id, "recording": n * 64, "sha256": "0" * 64, "chunk_index": 0}
            )
            for n in ("s", "f")
        )
        self.env.cr.execute(
            "UPDATE asterisk_plus_recording_chunk SET create_date = now() - interval '2 days' WHERE id = %s",
            [stale.id],
        )
        self.env["asterisk_plus.recording"]._cron_recording_retention()
        self.assertFalse(stale.exists())
        self.assertTrue(fresh.exists())

    def test_the_server_form_shows_the_storage_used(self):
        self.recording("one", 1)
        self.recording("two", 2)
        self.assertEqual(self.server.recording_count, 2)
        self.assertEqual(self.server.recording_storage, f"{2 * len(MP3) / 1024:.1f} KB")

    def test_the_retention_cron_runs_every_day_for_ever(self):
        cron = self.env.ref("asterisk_plus.cron_recording_retention")
        self.assertTrue(cron.active)
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "days"))
        if release.version_info[0] < 18:  # 17's default numbercall of 1 would run it once
            for xmlid in ("asterisk_plus.cron_recording_retention", "asterisk_plus.cron_call_retention"):
                self.assertEqual(self.env.ref(xmlid).numbercall, -1, xmlid)

    def test_the_call_retention_keeps_a_call_whose_recording_is_kept_and_takes_the_others_mp3s(self):
        self.server.keep_calls_days = 30
        calls = self.env["asterisk_plus.call"]
        old_start = fields.Datetime.now() - timedelta(days=40)
        kept_call, gone_call = (
            calls.create(
                {"server_id": self.server.id, "linkedid": f"1796000000.{n}", "started_at": old_start}
            )
            for n in (1, 2)
        )
        kept, gone = self.recording("kept", 40, keep=True), self.recording("gone", 40)
        kept._attach(kept_call)
        gone._attach(gone_call)
        gone_mp3 = gone.attachment_id
        self.env["asterisk_plus.server"]._cron_call_retention()
        self.assertTrue(kept_call.exists() and kept.exists() and kept.attachment_id.exists())
        self.assertFalse(gone_call.exists() or gone.exists() or gone_mp3.exists())

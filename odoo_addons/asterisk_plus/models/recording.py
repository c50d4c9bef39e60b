"""Call recordings in Odoo: one record per recording file the agent sent (docs/odoo-api.md, "Recordings"),
its MP3 an attachment of its call, who may listen, keep-forever and retention.

Who may listen: the recording's record rules are the call's (its participants, Call Managers and admins), and
its MP3 is an `ir.attachment` of the call, which Odoo lets read exactly whoever may read the call. A recording
whose call is not known yet has its attachment on no record: only its creator (the system account) and
Odoo's system administrators read it, until the call arrives and it is attached (recording_bridge.py)."""

import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..rights import check_access

_logger = logging.getLogger(__name__)

STATUSES = [
    ("ok", "Recorded"),
    ("empty", "Empty (nobody spoke)"),
    ("truncated", "Truncated"),
    ("invalid", "Not a WAV file"),
    ("unsupported", "Unsupported format"),
]
MANAGER = "asterisk_plus.group_call_manager"
# Chunks whose summary never came are dropped after this long (the agent sends them again if it must).
STALE_CHUNKS = timedelta(days=1)


def human_size(size):
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


class Recording(models.Model):
    _name = "asterisk_plus.recording"
    _description = "Call recording"
    _order = "recorded_at desc, id desc"

    name = fields.Char(required=True, help="The MP3's name (for a report, the WAV's)")
    server_id = fields.Many2one("asterisk_plus.server", required=True, ondelete="cascade", index=True)
    key = fields.Char(required=True, help="The agent's dedupe key: sha256 of the WAV's path and bytes")
    call_id = fields.Many2one("asterisk_plus.call", string="Call", ondelete="cascade", index=True)
    status = fields.Selection(STATUSES, required=True, default="ok")
    reason = fields.Char(help="Why a file gave no audio")
    uniqueid = fields.Char(string="Uniqueid", index=True, help="The recorded channel's Uniqueid")
    linkedid = fields.Char(string="Linkedid", index=True, help="Its call's Linkedid, when the events gave it")
    channel = fields.Char()
    file = fields.Char(help="The WAV's path in Asterisk's recordings directory")
    duration = fields.Float(help="Seconds of audio", digits=(12, 1))
    size = fields.Integer(string="Bytes", help="Bytes of MP3")
    size_text = fields.Char(compute="_compute_size_text", string="Size")
    sha256 = fields.Char(string="SHA-256")
    recorded_at = fields.Datetime(help="When Asterisk last wrote the file: the recording's end")
    attachment_id = fields.Many2one("ir.attachment", string="MP3", ondelete="set null", readonly=True)
    audio_url = fields.Char(compute="_compute_audio_url", string="Listen")
    keep = fields.Boolean(string="Keep forever", help="The retention cron never deletes it")
    caller = fields.Char(related="call_id.caller")
    called = fields.Char(related="call_id.called")
    started_at = fields.Datetime(related="call_id.started_at", string="Call started")

    _sql_constraints = [("key_unique", "unique(server_id, key)", "A recording is stored once.")]

    @api.depends("size")
    def _compute_size_text(self):
        for rec in self:
            rec.size_text = human_size(rec.size or 0) if rec.size else ""

    @api.depends("attachment_id")
    def _compute_audio_url(self):
        for rec in self:
            attachment = rec.attachment_id.id
            # /web/content checks the attachment's access itself (that of the call it belongs to).
            rec.audio_url = f"/web/content/{attachment}" if attachment else False

    def _check_manager(self):
        if not self.env.user.has_group(MANAGER):
            raise AccessError(_("Only Call Managers may keep recordings or stop keeping them."))

    def action_keep(self):
        self._check_manager()
        check_access(self, "read")
        self.sudo().write({"keep": True})

    def action_unkeep(self):
        self._check_manager()
        check_access(self, "read")
        self.sudo().write({"keep": False})

    def unlink(self):
        attachments = self.sudo().mapped("attachment_id")
        result = super().unlink()
        attachments.unlink()
        return result

    def _attach(self, call):
        """The recordings (and their MP3s) belong to `call` from now on."""
        if not self:
            return
        self.sudo().write({"call_id": call.id})
        self.sudo().mapped("attachment_id").write({"res_model": "asterisk_plus.call", "res_id": call.id})

    @api.model
    def _cron_recording_retention(self):
        """Recordings older than their server's keep_recordings_days, unless kept; and chunks whose summary
        never came."""
        now = fields.Datetime.now()
        for server in self.env["asterisk_plus.server"].sudo().search([("keep_recordings_days", ">", 0)]):
            limit = now - timedelta(days=server.keep_recordings_days)
            old = self.sudo().search(
                [
                    ("server_id", "=", server.id),
                    ("keep", "=", False),
                    "|",
                    ("recorded_at", "<", limit),
                    "&",
                    ("recorded_at", "=", False),
                    ("create_date", "<", limit),
                ]
            )
            if old:
                _logger.info("deleting %s recordings of %s older than %s", len(old), server.name, limit)
                old.unlink()
        self.env.cr.execute(
            "DELETE FROM asterisk_plus_recording_chunk WHERE create_date < %s", [now - STALE_CHUNKS]
        )

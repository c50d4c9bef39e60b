"""The server's recording settings: which calls are recorded and how (call_recording.py), where Asterisk
writes the files, how long Odoo keeps them, the storage they use, and the dialplan snippet."""

from odoo import api, fields, models

from .recording import human_size

POLICIES = [
    ("none", "No recording"),
    ("all", "Every answered call (Odoo starts MixMonitor)"),
    ("users", "Calls of the PBX users marked 'Record calls' (Odoo starts MixMonitor)"),
    ("dialplan", "Every call, by Asterisk's dialplan (the snippet below)"),
]

DIALPLAN = """; Odoo's recording policy "by Asterisk's dialplan": Gosub(record-call,s,1) first thing in each
; context whose calls are recorded. Asterisk records from the call's answer (b: while bridged), also while
; Odoo or the agent is away. The agent's recordings service takes the file once the call is over.
[record-call]
exten => s,1,MixMonitor({directory}/rec-${{UNIQUEID}}.wav,b)
 same => n,Return()
"""


class ServerRecordings(models.Model):
    _inherit = "asterisk_plus.server"

    recording_policy = fields.Selection(
        POLICIES,
        string="Record",
        default="none",
        required=True,
        help="Odoo starts MixMonitor on the answering channel when a call it records is answered; "
        "or Asterisk's dialplan records every call (the snippet)",
    )
    recordings_dir = fields.Char(
        string="Recordings directory",
        default="/var/spool/asterisk/monitor",
        required=True,
        help="Where Asterisk writes the recordings, as Asterisk sees it: the agent's RECORDINGS_DIR is that "
        "directory mounted (RECORDINGS_ASTERISK_DIR when mounted elsewhere)",
    )
    keep_recordings_days = fields.Integer(
        string="Keep recordings (days)",
        default=0,
        help="A daily cron deletes older recordings, except those kept for ever. 0: for ever",
    )
    recording_count = fields.Integer(compute="_compute_recording_storage", string="Recordings")
    recording_storage = fields.Char(compute="_compute_recording_storage", string="Storage used")
    recording_dialplan = fields.Text(compute="_compute_recording_dialplan")

    def _compute_recording_storage(self):
        rows = (
            self.env["asterisk_plus.recording"]
            .sudo()
            ._read_group([("server_id", "in", self.ids)], ["server_id"], ["__count", "size:sum"])
        )
        found = {server.id: (count, size or 0) for server, count, size in rows}
        for rec in self:
            count, size = found.get(rec.id, (0, 0))
            rec.recording_count = count
            rec.recording_storage = human_size(size)

    @api.depends("recordings_dir")
    def _compute_recording_dialplan(self):
        for rec in self:
            rec.recording_dialplan = DIALPLAN.format(directory=(rec.recordings_dir or "").rstrip("/"))

    def _recording_file(self, uniqueid):
        """The file MixMonitor writes for a channel: its Uniqueid in the name, so the call is found by it."""
        self.ensure_one()
        return f"{(self.recordings_dir or '').rstrip('/')}/rec-{uniqueid}.wav"

    def action_recordings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("asterisk_plus.recording_action")
        action["domain"] = [("server_id", "=", self.id)]
        return action

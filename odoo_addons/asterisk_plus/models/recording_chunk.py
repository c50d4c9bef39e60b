from odoo import fields, models


class RecordingChunk(models.Model):
    """A chunk of a recording's MP3, staged until its summary comes (recording_bridge.py)."""

    _name = "asterisk_plus.recording.chunk"
    _description = "Recording chunk, staged"

    server_id = fields.Many2one("asterisk_plus.server", required=True, ondelete="cascade")
    recording = fields.Char(required=True, help="The recording's dedupe key")
    sha256 = fields.Char(required=True, help="The whole MP3's sha256")
    chunk_index = fields.Integer(required=True)
    data = fields.Binary(attachment=False, help="The chunk's bytes, base64")

    _sql_constraints = [
        (
            "chunk_unique",
            "unique(server_id, recording, sha256, chunk_index)",
            "A chunk is staged once.",
        )
    ]

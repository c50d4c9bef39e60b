"""A call's recordings: shown on the call, attached when the call comes after its recording, and the server's
recording policy applied when a call is answered (an AMI MixMonitor, published after commit).

Why MixMonitor from Odoo: the policy (all calls, or the calls of the PBX users marked 'Record calls') lives in
Odoo and changes there without touching the dialplan, and the journal knows when a call is answered and on
which channel. The price: the recording starts when Odoo has heard of the answer (the events' way through the
agent, usually well under a second), and nothing is recorded while Odoo or the bridge is away. The server's
'dialplan' policy leaves it to Asterisk instead (the snippet on the server form), which has neither limit."""

from odoo import api, fields, models

# The channel id (so the Uniqueid and Linkedid) of a supervisor's ChanSpy call: never recorded.
from ..call_events import SUPERVISION_PREFIX


class CallRecording(models.Model):
    _inherit = "asterisk_plus.call"

    recording_ids = fields.One2many("asterisk_plus.recording", "call_id", string="Recordings")
    has_recording = fields.Boolean(
        compute="_compute_has_recording", store=True, string="Recorded", help="A recording can be heard"
    )
    recording_url = fields.Char(compute="_compute_recording_url", string="Recording")
    recording_requested = fields.Char(
        copy=False,
        help="The channel (Uniqueid) Odoo asked Asterisk to record, once, when the call was answered",
    )

    @api.depends("recording_ids.attachment_id")
    def _compute_has_recording(self):
        for rec in self:
            rec.has_recording = bool(rec.recording_ids.filtered("attachment_id"))

    def _compute_recording_url(self):
        for rec in self:
            heard = rec.recording_ids.filtered("attachment_id")[:1]
            rec.recording_url = heard.audio_url if heard else False

    # -- recordings that came before their call ------------------------------------------------------------

    def _write_legs(self, server, bufs, legs):
        recordings = self.env["asterisk_plus.recording"].sudo()
        for b in bufs.values():
            absorbed = [record.id for record in b.absorbed]
            if absorbed:  # those calls are deleted below: their recordings go to the call they are merged in
                recordings.search([("call_id", "in", absorbed)])._attach(b.record)
        super()._write_legs(server, bufs, legs)
        self._attach_waiting_recordings(server, bufs)

    def _attach_waiting_recordings(self, server, bufs):
        """Recordings stored without a call (their events came later) whose call is in this batch."""
        keys = set(bufs)
        for b in bufs.values():
            keys.update(leg["uniqueid"] for leg in b.summary["legs"])
        recordings = self.env["asterisk_plus.recording"].sudo()
        waiting = recordings.search(
            [
                ("server_id", "=", server.id),
                ("call_id", "=", False),
                "|",
                ("linkedid", "in", list(keys)),
                ("uniqueid", "in", list(keys)),
            ]
        )
        if not waiting:
            return
        found = recordings._calls_of(server, waiting)
        for recording in waiting:
            if recording.key in found:
                recording._attach(found[recording.key])

    # -- the recording policy ------------------------------------------------------------------------------

    def _effects(self, b, people, notify):
        effects = super()._effects(b, people, notify)
        action = self._record_action(b)
        if action:
            effects.append(("publish", b.record.id, "actions", action))
        return effects

    def _record_action(self, b):
        """The MixMonitor that records this call, once, when the server's policy wants it and the call is
        answered and still on; None otherwise."""
        call, s = b.record, b.summary
        server = call.server_id
        if server.recording_policy not in ("all", "users") or s["status"] != "up" or call.recording_requested:
            return None
        if call.linkedid.startswith(SUPERVISION_PREFIX):
            return None
        if server.recording_policy == "users" and not self._records_a_user(call):
            return None
        leg = _recorded_leg(s, b.key)
        if not leg:
            return None
        call.recording_requested = leg["uniqueid"]
        return {
            "Action": "MixMonitor",
            "Channel": leg["channel"] or leg["uniqueid"],
            "File": server._recording_file(leg["uniqueid"]),
        }

    def _records_a_user(self, call):
        flagged = (
            self.env["asterisk_plus.user"]
            .sudo()
            .search([("server_id", "=", call.server_id.id), ("record_calls", "=", True)])
        )
        return bool((call.user_id | call.answered_user_id) & flagged.mapped("user_id"))


def _recorded_leg(summary, key):
    """The channel to record: the one that answered (both directions of the conversation pass through it),
    else the call's first channel; only while it is on."""
    legs = {leg["uniqueid"]: leg for leg in summary["legs"]}
    by = summary["answered_by"] or {}
    for uniqueid in (by.get("uniqueid"), key, *summary["roots"]):
        leg = legs.get(uniqueid or "")
        if leg and leg.get("up") and not leg.get("hangup"):
            return leg
    return None

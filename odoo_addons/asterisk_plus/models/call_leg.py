"""A leg of a call: one channel (its Uniqueid)."""

from odoo import api, fields, models

from .. import call_events
from .call import state_time


class CallLeg(models.Model):
    """One channel of a call (its Uniqueid); what happened on it is read from the call's facts."""

    _name = "asterisk_plus.call.leg"
    _description = "Call leg (a channel)"
    _order = "id"

    call_id = fields.Many2one("asterisk_plus.call", required=True, ondelete="cascade", index=True)
    server_id = fields.Many2one("asterisk_plus.server", required=True, ondelete="cascade")
    uniqueid = fields.Char(required=True, index=True)
    channel = fields.Char()
    exten = fields.Char(compute="_compute_state", string="Extension")
    role = fields.Char(compute="_compute_state")
    up_at = fields.Datetime(compute="_compute_state", string="Answered at")
    hangup_at = fields.Datetime(compute="_compute_state", string="Hung up at")
    cause = fields.Char(compute="_compute_state")

    _sql_constraints = [("uniqueid_unique", "unique(server_id, uniqueid)", "A channel is a leg of one call.")]

    @api.depends("call_id.facts")
    def _compute_state(self):
        legs = {}
        for call in self.mapped("call_id"):
            legs.update({leg["uniqueid"]: leg for leg in call._summary()["legs"]})
        for rec in self:
            leg = legs.get(rec.uniqueid, {})
            rec.exten = leg.get("exten") or call_events.channel_exten(rec.channel)
            rec.role = {"caller": "Caller", "answered": "Answered"}.get(leg.get("role"), "")
            rec.up_at = state_time(leg.get("up"))
            rec.hangup_at = state_time(leg.get("hangup"))
            rec.cause = leg.get("cause") or ""

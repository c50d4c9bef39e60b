"""A ticket's calls (smart button) and click-to-call to the ticket's contact."""

from odoo import _, fields, models
from odoo.exceptions import UserError


class HelpdeskTicket(models.Model):
    _inherit = "helpdesk.ticket"

    asterisk_call_ids = fields.One2many("asterisk_plus.call", "ticket_id", string="Calls")
    asterisk_call_count = fields.Integer(compute="_compute_asterisk_call_count")

    def _compute_asterisk_call_count(self):
        calls = self.env["asterisk_plus.call"]
        if not _can_read(calls):  # a helpdesk user who is no Asterisk user sees no calls
            self.asterisk_call_count = 0
            return
        counts = dict(calls._read_group([("ticket_id", "in", self.ids)], ["ticket_id"], ["__count"]))
        for ticket in self:
            ticket.asterisk_call_count = counts.get(ticket, 0)

    def action_asterisk_calls(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Calls"),
            "res_model": "asterisk_plus.call",
            "view_mode": "list,form",
            "domain": [("ticket_id", "=", self.id)],
        }

    def action_asterisk_call(self):
        """Click-to-call the ticket's contact (mobile, else phone); the call is linked to the ticket."""
        self.ensure_one()
        partner = self.partner_id
        number = partner.mobile or partner.phone
        if not number:
            raise UserError(_("The ticket's contact has no phone number"))
        return self.env["asterisk_plus.call"].originate(number, "helpdesk.ticket", self.id, partner.id)


def _can_read(model):
    """May the user read this model (Odoo 18: has_access; 17: check_access_rights)?"""
    if hasattr(model, "has_access"):
        return model.has_access("read")
    return model.check_access_rights("read", raise_exception=False)

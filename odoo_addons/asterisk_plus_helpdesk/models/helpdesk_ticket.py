"""A ticket's calls (smart button) and click-to-call to the ticket's contact (asterisk_plus's mixin; the call
is linked to the ticket)."""

from odoo import _, fields, models


class HelpdeskTicket(models.Model):
    _name = "helpdesk.ticket"
    _inherit = ["helpdesk.ticket", "asterisk_plus.callable"]

    _asterisk_call_field = "ticket_id"

    asterisk_call_ids = fields.One2many("asterisk_plus.call", "ticket_id", string="Calls")

    def _asterisk_number_holder(self):
        return self.partner_id

    def _asterisk_no_number_message(self):
        return _("The ticket's contact has no phone number")

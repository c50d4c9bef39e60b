"""A record one may call from Odoo: its calls (the smart button) and the Call button. res.partner here;
asterisk_plus_crm's leads and asterisk_plus_helpdesk's tickets too."""

from odoo import _, fields, models
from odoo.exceptions import UserError


class CallableMixin(models.AbstractModel):
    _name = "asterisk_plus.callable"
    _description = "Asterisk: a record with a Call button and a list of its calls"

    # The asterisk_plus.call field that links a call to such a record.
    _asterisk_call_field = "partner_id"

    asterisk_call_count = fields.Integer(compute="_compute_asterisk_call_count")

    def _compute_asterisk_call_count(self):
        calls = self.env["asterisk_plus.call"]
        if not _can_read(calls):  # a user who is no Asterisk user sees no calls
            self.asterisk_call_count = 0
            return
        field = self._asterisk_call_field
        counts = dict(calls._read_group([(field, "in", self.ids)], [field], ["__count"]))
        for rec in self:
            rec.asterisk_call_count = counts.get(rec, 0)

    def action_asterisk_calls(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Calls"),
            "res_model": "asterisk_plus.call",
            "view_mode": "list,form",
            "domain": [(self._asterisk_call_field, "=", self.id)],
        }

    def action_asterisk_call(self):
        """Click-to-call: Asterisk rings the user's phone(s), then dials the number (mobile, else phone); the
        call is linked to this record and to its contact."""
        self.ensure_one()
        holder = self._asterisk_number_holder()
        number = holder.mobile or holder.phone
        if not number:
            raise UserError(self._asterisk_no_number_message())
        partner = self._asterisk_call_partner()
        return self.env["asterisk_plus.call"].originate(number, self._name, self.id, partner.id)

    def _asterisk_number_holder(self):
        """The record whose mobile or phone the Call button dials."""
        return self

    def _asterisk_call_partner(self):
        """The contact a call from the Call button is linked to."""
        return self.partner_id

    def _asterisk_no_number_message(self):
        return _("%s has no phone number", self.display_name)


def _can_read(model):
    """May the user read this model (Odoo 18: has_access; 17: check_access_rights)?"""
    if hasattr(model, "has_access"):
        return model.has_access("read")
    return model.check_access_rights("read", raise_exception=False)

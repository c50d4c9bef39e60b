"""Number not found: the pop-up of a call from an unknown number offers to create a contact with it, or to
add it to an existing contact; the call is then linked to that contact."""

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..models.call_originate import _check_read


class NumberWizard(models.TransientModel):
    _name = "asterisk_plus.number_wizard"
    _description = "Number not found: create a contact or add the number to one"

    number = fields.Char(required=True)
    call_id = fields.Many2one("asterisk_plus.call", string="Call")
    mode = fields.Selection(
        [("create", "Create a new contact"), ("add", "Add it to an existing contact")],
        string="What to do",
        default="create",
        required=True,
    )
    name = fields.Char(string="Name")
    parent_id = fields.Many2one("res.partner", string="Company", domain=[("is_company", "=", True)])
    partner_id = fields.Many2one("res.partner", string="Contact")
    number_field = fields.Selection(
        [("phone", "Phone"), ("mobile", "Mobile")], string="As", default="phone", required=True
    )
    partner_phone = fields.Char(related="partner_id.phone", string="Current phone")
    partner_mobile = fields.Char(related="partner_id.mobile", string="Current mobile")

    @api.onchange("partner_id")
    def _onchange_partner_id(self):
        """Fill the empty one of phone and mobile; phone when both are taken (the user may change it)."""
        if self.partner_id:
            self.number_field = "mobile" if self.partner_id.phone and not self.partner_id.mobile else "phone"

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("asterisk_plus.group_user"):
            raise AccessError(_("Only Asterisk users may do this"))
        number = (self.number or "").strip()
        if not number:
            raise UserError(_("There is no number"))
        if self.call_id:
            _check_read(self.call_id)  # only a call the user may see is linked
        # The user's own rights: creating or changing a contact is theirs to be allowed.
        if self.mode == "create":
            if not (self.name or "").strip():
                raise UserError(_("Give the new contact a name"))
            partner = self.env["res.partner"].create(
                {"name": self.name.strip(), self.number_field: number, "parent_id": self.parent_id.id}
            )
        else:
            if not self.partner_id:
                raise UserError(_("Choose the contact to add %s to", number))
            partner = self.partner_id
            partner.write({self.number_field: number})
        if self.call_id and not self.call_id.sudo().partner_id:
            self.call_id.sudo().partner_id = partner
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": partner.id,
            "view_mode": "form",
            "views": [[False, "form"]],
            "target": "current",
        }

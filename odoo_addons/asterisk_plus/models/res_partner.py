from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .call import e164

# What the number lookup (lookup.py) and the phonebook read of a partner: a change clears the lookup's cache
# and republishes the numbers concerned.
LOOKUP_FIELDS = {"phone", "mobile", "name", "parent_id", "is_company", "active", "country_id", "company_name"}


class ResPartner(models.Model):
    _inherit = "res.partner"

    phone_e164 = fields.Char(compute="_compute_e164", store=True, index=True)
    mobile_e164 = fields.Char(compute="_compute_e164", store=True, index=True)
    asterisk_call_count = fields.Integer(compute="_compute_asterisk_call_count")

    @api.depends("phone", "mobile", "country_id")
    def _compute_e164(self):
        default = self.env.company.country_id.code
        for rec in self:
            country = rec.country_id.code or default
            rec.phone_e164 = e164(rec.phone, country) if rec.phone else False
            rec.mobile_e164 = e164(rec.mobile, country) if rec.mobile else False

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        if any(LOOKUP_FIELDS & set(vals) for vals in vals_list):
            partners._asterisk_lookup_changed(set())
        return partners

    def write(self, vals):
        if not LOOKUP_FIELDS & set(vals):
            return super().write(vals)
        before = self._asterisk_numbers()
        result = super().write(vals)
        self._asterisk_lookup_changed(before)
        return result

    def unlink(self):
        before = self._asterisk_numbers()
        result = super().unlink()
        self.browse()._asterisk_lookup_changed(before)
        return result

    def _asterisk_numbers(self):
        """The E.164 numbers of these partners and of their contacts (whose names show the company's)."""
        partners = (self | self.child_ids).sudo()
        return {n for p in partners for n in (p.phone_e164, p.mobile_e164) if n and n.startswith("+")}

    def _asterisk_lookup_changed(self, before):
        numbers = before | self._asterisk_numbers()
        if not numbers:  # no number had or has these partners: no lookup and no phonebook entry changes
            return
        self.env.registry.clear_cache()  # the lookup's ormcache
        self.env["asterisk_plus.phonebook"]._numbers_changed(numbers)

    def _compute_asterisk_call_count(self):
        counts = dict(
            self.env["asterisk_plus.call"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for rec in self:
            rec.asterisk_call_count = counts.get(rec, 0)

    def action_asterisk_calls(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Calls"),
            "res_model": "asterisk_plus.call",
            "view_mode": "list,form",
            "domain": [("partner_id", "=", self.id)],
        }

    def action_asterisk_call(self):
        """Click-to-call: Asterisk rings the user's phone(s), then dials the partner."""
        self.ensure_one()
        number = self.mobile or self.phone
        if not number:
            raise UserError(_("%s has no phone number", self.display_name))
        return self.env["asterisk_plus.call"].originate(number, "res.partner", self.id, self.id)

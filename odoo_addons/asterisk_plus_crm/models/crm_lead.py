"""A lead's numbers in E.164 (what the lookup searches), its calls and click-to-call."""

from odoo import _, api, fields, models
from odoo.addons.asterisk_plus.models.call import e164
from odoo.exceptions import UserError

# What the lookup (lookup.py) and the phonebook read of a lead: a change clears the lookup's cache and
# republishes the numbers concerned, as asterisk_plus does for partners.
LOOKUP_FIELDS = {
    "phone",
    "mobile",
    "country_id",
    "active",
    "stage_id",
    "type",
    "partner_id",
    "contact_name",
    "partner_name",
    "name",
}


class CrmLead(models.Model):
    _inherit = "crm.lead"

    phone_e164 = fields.Char(compute="_compute_e164", store=True, index=True)
    mobile_e164 = fields.Char(compute="_compute_e164", store=True, index=True)
    asterisk_call_ids = fields.One2many("asterisk_plus.call", "lead_id", string="Calls")
    asterisk_call_count = fields.Integer(compute="_compute_asterisk_call_count")

    @api.depends("phone", "mobile", "country_id")
    def _compute_e164(self):
        for lead in self:
            country = (
                lead.country_id.code or lead.company_id.country_id.code or self.env.company.country_id.code
            )
            lead.phone_e164 = e164(lead.phone, country) if lead.phone else False
            lead.mobile_e164 = e164(lead.mobile, country) if lead.mobile else False

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        if any(LOOKUP_FIELDS & set(vals) for vals in vals_list):
            leads._asterisk_lookup_changed(set())
        return leads

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
        return {
            n for lead in self.sudo() for n in (lead.phone_e164, lead.mobile_e164) if n and n.startswith("+")
        }

    def _asterisk_lookup_changed(self, before):
        numbers = before | self._asterisk_numbers()
        if not numbers:
            return
        self.env.registry.clear_cache()  # the lookup's ormcache
        self.env["asterisk_plus.phonebook"]._numbers_changed(numbers)

    def _compute_asterisk_call_count(self):
        calls = self.env["asterisk_plus.call"]
        if not _can_read(calls):  # a salesperson who is no Asterisk user sees no calls
            self.asterisk_call_count = 0
            return
        counts = dict(calls._read_group([("lead_id", "in", self.ids)], ["lead_id"], ["__count"]))
        for lead in self:
            lead.asterisk_call_count = counts.get(lead, 0)

    def action_asterisk_calls(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Calls"),
            "res_model": "asterisk_plus.call",
            "view_mode": "list,form",
            "domain": [("lead_id", "=", self.id)],
            "context": {"default_lead_id": self.id},
        }

    def action_asterisk_call(self):
        """Click-to-call: Asterisk rings the user's phone(s), then dials the lead (asterisk_plus's originate;
        the call is linked to the lead it came from)."""
        self.ensure_one()
        number = self.mobile or self.phone
        if not number:
            raise UserError(_("%s has no phone number", self.display_name))
        return self.env["asterisk_plus.call"].originate(number, "crm.lead", self.id, self.partner_id.id)


def _can_read(model):
    """May the user read this model (Odoo 18: has_access; 17: check_access_rights)?"""
    if hasattr(model, "has_access"):
        return model.has_access("read")
    return model.check_access_rights("read", raise_exception=False)

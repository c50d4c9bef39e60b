"""A lead's numbers in E.164 (what the lookup searches), its calls and click-to-call (asterisk_plus's
mixins; the call is linked to the lead it came from and to its partner)."""

from odoo import fields, models


class CrmLead(models.Model):
    _name = "crm.lead"
    _inherit = ["crm.lead", "asterisk_plus.e164", "asterisk_plus.callable"]

    # What the lookup (lookup.py) and the phonebook read of a lead.
    _asterisk_lookup_fields = frozenset(
        {
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
    )
    _asterisk_call_field = "lead_id"

    asterisk_call_ids = fields.One2many("asterisk_plus.call", "lead_id", string="Calls")

    def _asterisk_country_code(self):
        return self.country_id.code or self.company_id.country_id.code or self.env.company.country_id.code

    def action_asterisk_calls(self):
        return dict(super().action_asterisk_calls(), context={"default_lead_id": self.id})

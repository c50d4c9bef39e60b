"""Leads and opportunities in asterisk_plus's one lookup (number -> record): where they stand is a setting
(../crm_rules.py); the lead a number stands for is also what a call is linked to."""

from odoo import api, models, tools
from odoo.addons.asterisk_plus import lookup_rules

from .. import crm_rules

ORDER_PARAM = "asterisk_plus_crm.lookup_order"
OPEN = ["|", ("stage_id", "=", False), ("stage_id.is_won", "=", False)]  # archived (lost) leads are left out


class Lookup(models.AbstractModel):
    _inherit = "asterisk_plus.lookup"

    @api.model
    def _crm_order(self):
        """The setting; changing it clears the lookup's cache (ir.config_parameter clears the registry's)."""
        return self.env["ir.config_parameter"].sudo().get_param(ORDER_PARAM) or crm_rules.DEFAULT_ORDER

    @api.model
    def _leads_by_number(self, numbers):
        """{number: the open lead (sudo) it stands for}, whatever the order setting: one search."""
        numbers = [n for n in set(numbers) if n]
        if not numbers:
            return {}
        leads = (
            self.env["crm.lead"]
            .sudo()
            .search_read(
                ["|", ("phone_e164", "in", numbers), ("mobile_e164", "in", numbers), *OPEN],
                ["type", "phone_e164", "mobile_e164"],
            )
        )
        by_number = {}
        for lead in leads:
            for number in {lead["phone_e164"], lead["mobile_e164"]}:
                if number in numbers:
                    by_number.setdefault(number, []).append(lead)
        chosen = {number: crm_rules.best_lead(found) for number, found in by_number.items()}
        return {number: self.env["crm.lead"].sudo().browse(lead["id"]) for number, lead in chosen.items()}

    @api.model
    def _lead_for_number(self, number):
        """The open lead (sudo) an E.164 number stands for, or an empty recordset. Cached as the lookup is."""
        lead_id = self._lead_for_number_cached(number) if number else False
        return self.env["crm.lead"].sudo().browse(lead_id or [])

    @tools.ormcache("number")
    def _lead_for_number_cached(self, number):
        lead = self._leads_by_number([number]).get(number)
        return lead.id if lead else False

    @api.model
    def _lookup_candidates(self, numbers):
        out = super()._lookup_candidates(numbers)
        rank = crm_rules.lead_rank(self._crm_order())
        if rank is None or not numbers:
            return out
        for number, lead in self._leads_by_number(numbers).items():
            candidate = {"model": "crm.lead", "id": lead.id, "partner_id": lead.partner_id.id, "rank": rank}
            out.setdefault(number, []).append(candidate)
        return out

    @api.model
    def _lookup_card(self, found):
        if not found or found[0] != "crm.lead":
            return super()._lookup_card(found)
        lead = self.env["crm.lead"].sudo().browse(found[1]).exists()
        if not lead:
            return {}
        partner = lead.partner_id
        company = lead.partner_name or (partner.parent_id.name if partner else "") or ""
        name = crm_rules.lead_name(lead.contact_name, partner.name, lead.name)
        return {
            "model": "crm.lead",
            "id": lead.id,
            "name": name,
            "company": company if company != name else "",
            "avatar": f"/web/image/res.partner/{partner.id}/avatar_128" if partner else "",
        }

    @api.model
    def _lookup_labels(self, founds):
        leads = [found for found in founds if found[0] == "crm.lead"]
        out = super()._lookup_labels([found for found in founds if found[0] != "crm.lead"])
        records = self.env["crm.lead"].sudo().browse([found[1] for found in leads]).exists()
        labels = {}
        for lead in records:
            name = crm_rules.lead_name(lead.contact_name, lead.partner_id.name, lead.name)
            labels[lead.id] = lookup_rules.label(name, lead.partner_name or lead.partner_id.parent_id.name)
        out.update({found: labels[found[1]] for found in leads if labels.get(found[1])})
        return out

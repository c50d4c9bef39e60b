"""The desk phones' phonebook (asterisk_plus) also holds the numbers of open leads, when the lookup finds
leads (the setting): the name shown is the lookup's."""

from odoo import api, models

from .. import crm_rules


class Phonebook(models.AbstractModel):
    _inherit = "asterisk_plus.phonebook"

    @api.model
    def _all_numbers(self):
        numbers = super()._all_numbers()
        if crm_rules.lead_rank(self.env["asterisk_plus.lookup"]._crm_order()) is None:
            return numbers
        self.env["crm.lead"].flush_model(["phone_e164", "mobile_e164", "active", "stage_id"])
        self.env.cr.execute(
            """
            SELECT n FROM crm_lead l  -- the open leads, as lookup.py OPEN says
              LEFT JOIN crm_stage s ON s.id = l.stage_id
             CROSS JOIN LATERAL (VALUES (l.phone_e164), (l.mobile_e164)) AS v(n)
             WHERE l.active AND NOT coalesce(s.is_won, false) AND n LIKE '+%%'
            """
        )
        return numbers | {row[0] for row in self.env.cr.fetchall()}

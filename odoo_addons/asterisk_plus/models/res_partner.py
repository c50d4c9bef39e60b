from odoo import models


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "asterisk_plus.e164", "asterisk_plus.callable"]

    # What the number lookup (lookup.py) and the phonebook read of a partner.
    _asterisk_lookup_fields = frozenset(
        {"phone", "mobile", "name", "parent_id", "is_company", "active", "country_id", "company_name"}
    )

    def _asterisk_number_records(self):
        """These partners and their contacts (whose names show the company's)."""
        return self | self.child_ids

    def _asterisk_call_partner(self):
        return self

"""A record whose phone and mobile are stored in E.164 too (what the number lookup and the phonebook search):
res.partner here, asterisk_plus_crm's leads. A change to what the lookup reads of it clears the lookup's cache
and republishes the numbers concerned."""

from odoo import api, fields, models

from .call import e164


class E164Mixin(models.AbstractModel):
    _name = "asterisk_plus.e164"
    _description = "Asterisk: phone and mobile in E.164 for the number lookup"

    # What the lookup and the phonebook read of such a record (lookup.py, phonebook.py).
    _asterisk_lookup_fields = frozenset({"phone", "mobile"})

    phone_e164 = fields.Char(compute="_compute_e164", store=True, index=True)
    mobile_e164 = fields.Char(compute="_compute_e164", store=True, index=True)

    @api.depends("phone", "mobile", "country_id")
    def _compute_e164(self):
        for rec in self:
            country = rec._asterisk_country_code()
            rec.phone_e164 = e164(rec.phone, country) if rec.phone else False
            rec.mobile_e164 = e164(rec.mobile, country) if rec.mobile else False

    def _asterisk_country_code(self):
        """The country a national number of this record is read in: its own, else the user's company's."""
        return self.country_id.code or self.env.company.country_id.code

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        if any(self._asterisk_lookup_fields & set(vals) for vals in vals_list):
            records._asterisk_lookup_changed(set())
        return records

    def write(self, vals):
        if not self._asterisk_lookup_fields & set(vals):
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

    def _asterisk_number_records(self):
        """The records whose numbers the lookup answers with these records' names."""
        return self

    def _asterisk_numbers(self):
        records = self._asterisk_number_records().sudo()
        return {n for rec in records for n in (rec.phone_e164, rec.mobile_e164) if n and n.startswith("+")}

    def _asterisk_lookup_changed(self, before):
        numbers = before | self._asterisk_numbers()
        if not numbers:  # no number had or has these records: no lookup and no phonebook entry changes
            return
        self.env.registry.clear_cache()  # the lookup's ormcache
        self.env["asterisk_plus.phonebook"]._numbers_changed(numbers)

import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .event_map import OPS


class EventMapCondition(models.Model):
    _name = "asterisk_plus.event_map.condition"
    _description = "A condition on an AMI header"

    map_id = fields.Many2one("asterisk_plus.event_map", required=True, ondelete="cascade")
    header = fields.Char(required=True)
    op = fields.Selection(OPS, required=True, default="equals")
    value = fields.Char()

    @api.constrains("op", "value")
    def _check_regex(self):
        for rec in self:
            if rec.op == "matches":
                try:
                    re.compile(rec.value or "")
                except re.error as exc:
                    raise ValidationError(_("Not a valid regular expression: %s", exc)) from exc

    def write(self, vals):
        result = super().write(vals)
        self.map_id._announce()
        return result

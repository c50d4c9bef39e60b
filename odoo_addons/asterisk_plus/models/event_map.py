from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import bus_client as bus

OPS = [
    ("equals", "equals"),
    ("differs", "differs from"),
    ("matches", "matches (regex)"),
    ("exists", "exists"),
    ("missing", "is missing"),
]


class EventMap(models.Model):
    _name = "asterisk_plus.event_map"
    _description = "Events map: which AMI event goes to which Odoo method"
    _order = "event, id"

    event = fields.Char(required=True, help="AMI event name, e.g. Newchannel")
    model = fields.Char(required=True, default="asterisk_plus.call")
    method = fields.Char(required=True, default="on_ami_events")
    condition_ids = fields.One2many("asterisk_plus.event_map.condition", "map_id", string="Conditions")
    server_id = fields.Many2one("asterisk_plus.server", help="Empty: every server")
    active = fields.Boolean(default=True)

    @api.constrains("model", "method")
    def _check_target(self):
        for rec in self:
            if rec.model not in self.env:
                raise ValidationError(_("There is no model %s", rec.model))
            if rec.method.startswith("_") or not callable(getattr(self.env[rec.model], rec.method, None)):
                raise ValidationError(_("%s has no public method %s", rec.model, rec.method))

    def as_bridge_row(self):
        self.ensure_one()
        return {
            "id": self.id,
            "event": self.event,
            "model": self.model,
            "method": self.method,
            "conditions": [
                {"header": c.header, "op": c.op, "value": c.value or ""} for c in self.condition_ids
            ],
        }

    def _announce(self):
        for server in self.env["asterisk_plus.server"].sudo().search([]):
            bus.publish_after_commit(
                self.env,
                server,
                "commands:odoo_bridge",
                bus.fields_for(server, "events_map.changed", user=self.env.user.login),
            )

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._announce()
        return records

    def write(self, vals):
        result = super().write(vals)
        self._announce()
        return result

    def unlink(self):
        self._announce()
        return super().unlink()

import ipaddress

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import bus_client as bus


class AccessList(models.Model):
    _name = "asterisk_plus.access_list"
    _description = "IP access list sent to the guard"

    address = fields.Char(required=True, help="An address or a network, e.g. 10.0.0.0/8")
    action = fields.Selection(
        [("allow", "Allow (never ban)"), ("deny", "Deny (ban for good)")], required=True, default="allow"
    )
    comment = fields.Char()
    server_id = fields.Many2one("asterisk_plus.server", required=True, ondelete="cascade")

    @api.constrains("address")
    def _check_address(self):
        for rec in self:
            try:
                ipaddress.ip_network(rec.address.strip(), strict=False)
            except ValueError as exc:
                raise ValidationError(_("%s is not an address or network", rec.address)) from exc

    def _send(self, servers):
        for server in servers:
            rows = self.sudo().search([("server_id", "=", server.id)])
            acl = [
                {"address": r.address.strip(), "action": r.action, "comment": r.comment or ""} for r in rows
            ]
            bus.publish_after_commit(
                self.env,
                server,
                "commands:guard",
                bus.fields_for(server, "acl", payload=acl, user=self.env.user.login),
            )

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._send(records.mapped("server_id"))
        return records

    def write(self, vals):
        servers = self.mapped("server_id")
        result = super().write(vals)
        self._send(servers | self.mapped("server_id"))
        return result

    def unlink(self):
        servers = self.mapped("server_id")
        result = super().unlink()
        self.env["asterisk_plus.access_list"]._send(servers)
        return result

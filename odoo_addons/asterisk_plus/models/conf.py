import json

from odoo import _, api, fields, models

from . import bus


class ConfFile(models.Model):
    _name = "asterisk_plus.conf"
    _description = "Asterisk .conf file"
    _order = "name"

    name = fields.Char(required=True)
    server_id = fields.Many2one("asterisk_plus.server", required=True, ondelete="cascade")
    content = fields.Text()
    synced_at = fields.Datetime(readonly=True)
    sync_direction = fields.Selection(
        [("to_asterisk", "Odoo -> Asterisk"), ("to_odoo", "Asterisk -> Odoo")], readonly=True
    )
    changed_since_sync = fields.Boolean(readonly=True)

    _sql_constraints = [("name_server_unique", "unique(server_id, name)", "One file of a name per server.")]

    def write(self, vals):
        if "content" in vals and not self.env.context.get("from_agent"):
            vals = dict(vals, changed_since_sync=True)
        return super().write(vals)

    @api.model
    def bridge_on_files(self, server_name, items):
        server = self.env["asterisk_plus.server"]._for_bridge(server_name)
        files = self.sudo().with_context(from_agent=True)
        results = []
        for item in items:
            data = json.loads(item.get("@json") or "{}")
            existing = files.search([("server_id", "=", server.id), ("name", "=", data.get("name"))], limit=1)
            values = {
                "content": data.get("content", ""),
                "synced_at": fields.Datetime.now(),
                "sync_direction": "to_odoo",
                "changed_since_sync": False,
            }
            if existing and data.get("mode") == "keep_existing":
                results.append({"status": "ok"})
                continue
            if existing:
                existing.write(values)
            else:
                files.create(dict(values, name=data.get("name"), server_id=server.id))
            results.append({"status": "ok"})
        return results

    @api.model
    def bridge_get_files(self, server_name, only_changed=False):
        server = self.env["asterisk_plus.server"]._for_bridge(server_name)
        domain = [("server_id", "=", server.id)] + (
            [("changed_since_sync", "=", True)] if only_changed else []
        )
        return [{"name": f.name, "content": f.content or ""} for f in self.sudo().search(domain)]

    def action_apply_changes(self):
        """Upload only the files edited in Odoo since the last sync, then reload."""
        for server in self.mapped("server_id") or self.env["asterisk_plus.server"].search([]):
            changed = self.search([("server_id", "=", server.id), ("changed_since_sync", "=", True)])
            if not changed:
                continue
            payload = {
                "files": [{"name": f.name, "content": f.content or ""} for f in changed],
                "reload": True,
            }
            bus.publish_after_commit(
                self.env,
                server,
                "commands:conf_sync",
                bus.fields_for(
                    server,
                    "upload",
                    payload=payload,
                    reply_to="to_odoo",
                    uid=self.env.uid,
                    user=self.env.user.login,
                ),
            )
            changed.with_context(from_agent=True).write(
                {
                    "changed_since_sync": False,
                    "synced_at": fields.Datetime.now(),
                    "sync_direction": "to_asterisk",
                }
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Apply changes"),
                "message": _("Changed files sent to the agent"),
                "type": "info",
            },
        }

import json
import logging
import re

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from .. import bus_client as bus
from ..rights import require_admin

_logger = logging.getLogger(__name__)

# The file names conf_sync writes (services/conf_sync/files.py NAME): nothing else is kept.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*\.conf$")


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
    # The Upload (or Apply) that sent this content: conf_sync's conf.result for it marks the file synced.
    upload_request_id = fields.Char(readonly=True, copy=False)
    sync_state = fields.Selection(
        [("changed", "Changed since sync"), ("sent", "Sent, awaiting Asterisk"), ("synced", "Synced")],
        compute="_compute_sync_state",
        string="Sync",
        help="Sent: an Upload or Apply took it to the agent, whose answer has not come yet.",
    )

    _sql_constraints = [("name_server_unique", "unique(server_id, name)", "One file of a name per server.")]

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.context.get("from_agent"):  # a file made in Odoo is not on Asterisk yet
            vals_list = [dict(vals, changed_since_sync=True) for vals in vals_list]
        return super().create(vals_list)

    def write(self, vals):
        if "content" in vals and not self.env.context.get("from_agent"):
            # Edited after an Upload was sent: that Upload's answer no longer says this content is synced.
            vals = dict(vals, changed_since_sync=True, upload_request_id=False)
        return super().write(vals)

    @api.depends("changed_since_sync", "upload_request_id")
    def _compute_sync_state(self):
        for rec in self:
            if not rec.changed_since_sync:
                rec.sync_state = "synced"
            else:
                rec.sync_state = "sent" if rec.upload_request_id else "changed"

    def _sent(self, request_id):
        """These files went to conf_sync in the Upload `request_id`: synced once its conf.result says ok."""
        self.sudo().with_context(from_agent=True).write({"upload_request_id": request_id})

    @api.model
    def _on_upload_results(self, server, items):
        """conf_sync's answers (`conf.result`, @id = the Upload's @id) to Uploads: the files sent by one that
        succeeded are synced; a refused one leaves them changed. Only answers that are on the bus count."""
        results = [
            item
            for item in items
            if item.get("@type") == "conf.result"
            and item.get("@request_type") == "upload"
            and item.get("@id")
        ]
        if not results:
            return
        names = ("@id", "@type", "@status", "@request_type")
        for item, seen in zip(results, bus.on_bus(server, "to_odoo", results, names), strict=True):
            files = self.sudo().search(
                [("server_id", "=", server.id), ("upload_request_id", "=", item["@id"])]
            )
            if not seen or not files:
                continue
            values = {"upload_request_id": False}
            if item.get("@status") == "ok":
                values.update(
                    changed_since_sync=False, synced_at=fields.Datetime.now(), sync_direction="to_asterisk"
                )
            files.with_context(from_agent=True).write(values)

    @api.model
    def bridge_on_files(self, server_name, items):
        """Files from the agent, each taken only where Odoo asked for Asterisk's files (see _refusal)."""
        server = self.env["asterisk_plus.server"]._for_bridge(server_name)
        files = self.sudo().with_context(from_agent=True)
        pending = server._pending_conf_request()
        results = []
        for item, seen in zip(items, bus.on_bus(server, "to_odoo", items), strict=True):
            try:
                data = json.loads(item.get("@json") or "{}")
            except ValueError:
                data = None
            refusal = self._refusal(server, item, data, seen, pending)
            if refusal:
                _logger.warning("conf file refused: %s (%s %s)", refusal, server.name, item.get("@id"))
                results.append({"status": "error", "error": refusal})
                continue
            existing = files.search([("server_id", "=", server.id), ("name", "=", data["name"])], limit=1)
            if existing and data.get("mode") == "keep_existing":
                results.append({"status": "ok"})
                continue
            values = {
                "content": data["content"],
                "synced_at": fields.Datetime.now(),
                "sync_direction": "to_odoo",
                "changed_since_sync": False,
            }
            if existing:
                existing.write(values)
            else:
                files.create(dict(values, name=data["name"], server_id=server.id))
            results.append({"status": "ok"})
        return results

    @api.model
    def _refusal(self, server, item, data, seen, pending):
        """Why a file from the agent is not taken, or "". Content is taken as the answer to the Download Odoo
        asked for (its request id), while the initial update is pending (new files only), or when Asterisk is
        the source of truth (update direction Asterisk -> Odoo); always from the bus, never from the system
        account's password alone."""
        if not seen or item.get("@type") != "conf.file":
            return "no such conf.file on the bus"
        if not isinstance(data, dict) or not isinstance(data.get("content"), str):
            return "no file in @json"
        if not isinstance(data.get("name"), str) or not NAME.match(data["name"]):
            return f"refused file name {data.get('name')!r}: only plain names ending in .conf"
        if data.get("mode") not in ("overwrite", "keep_existing"):
            return f"unknown mode {data.get('mode')!r}"
        if pending and item.get("@request") == pending:
            return ""
        if data["mode"] == "keep_existing" and not server.initial_update_done:
            return ""
        if server.update_direction == "asterisk_to_odoo":
            return ""
        return (
            "Odoo did not ask for this file: no Download awaits it, the initial update is done and "
            "the update direction is Odoo -> Asterisk"
        )

    @api.model
    def bridge_get_files(self, server_name, only_changed=False, request=None):
        """Odoo's files for the agent's start (update direction Odoo -> Asterisk), for the `conf.plan` request
        on the bus that the bridge answers: `request` is its `{"@entry", "@id"}`."""
        server = self.env["asterisk_plus.server"]._for_bridge(server_name)
        if server.update_direction != "odoo_to_asterisk" or not server.initial_update_done:
            raise AccessError(_("%s takes no files from Odoo at start", server.name))
        # The request's @id is random (the bridge has it from the bus): an entry id alone is guessable.
        plan = dict(request, **{"@type": "conf.plan"}) if isinstance(request, dict) else {}
        if not plan.get("@id") or not bus.on_bus(server, "commands:odoo_bridge", [plan], ("@id", "@type"))[0]:
            raise AccessError(_("Odoo's files go only to a conf.plan request on the bus of %s", server.name))
        domain = [("server_id", "=", server.id)] + (
            [("changed_since_sync", "=", True)] if only_changed else []
        )
        return [{"name": f.name, "content": f.content or ""} for f in self.sudo().search(domain)]

    def action_apply_changes(self):
        """Upload only the files edited in Odoo since the last sync, then reload."""
        require_admin(self.env, _("upload .conf files"))
        for server in self.mapped("server_id") or self.env["asterisk_plus.server"].search([]):
            changed = self.search([("server_id", "=", server.id), ("changed_since_sync", "=", True)])
            if not changed:
                continue
            payload = {
                "files": [{"name": f.name, "content": f.content or ""} for f in changed],
                "reload": True,
            }
            request = bus.fields_for(
                server,
                "upload",
                payload=payload,
                reply_to="to_odoo",
                uid=self.env.uid,
                user=self.env.user.login,
            )
            bus.publish_after_commit(self.env, server, "commands:conf_sync", request)
            # Still changed until conf_sync says they were written (_on_upload_results).
            changed._sent(request["@id"])
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Apply changes"),
                "message": _("Changed files sent to the agent"),
                "type": "info",
            },
        }

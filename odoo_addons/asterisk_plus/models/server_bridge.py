"""The server's calls the bridge makes (docs/odoo-api.md), as the server's system account only.

The system account's password may be the seed's public one: each call takes only what its flow sends."""

from odoo import _, api, models
from odoo.exceptions import AccessError, UserError

from .. import bus_client as bus
from ..compat import translator
from ..rights import ADMIN


def to_int(value):
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


class AsteriskServerBridge(models.Model):
    _inherit = "asterisk_plus.server"

    @api.model
    def _for_bridge(self, server_name):
        """The server record, if the caller is its system account."""
        server = self.sudo().search([("name", "=", server_name)], limit=1)
        if not server:
            raise UserError(_("No Asterisk server named %s", server_name))
        if self.env.user != server.user_id:
            raise AccessError(_("Only the system account of %s may do this", server_name))
        return server

    @api.model
    def bridge_get_config(self, server_name):
        server = self._for_bridge(server_name)
        maps = (
            self.env["asterisk_plus.event_map"]
            .sudo()
            .search([("active", "=", True), "|", ("server_id", "=", False), ("server_id", "=", server.id)])
        )
        return {
            "server": server.name,
            "country_code": server.country_id.code or "",
            "tz": server.tz or "UTC",
            "update_direction": server.update_direction,
            "initial_update_done": server.initial_update_done,
            "sync_at_start": server.sync_at_start,
            "events_map": [m.as_bridge_row() for m in maps],
            # For `pbx doctor`: the module as installed in this database, and where people open the console.
            "module_version": self.env.ref("base.module_asterisk_plus").sudo().latest_version or "",
            "console_url": server.console_url or "",
        }

    @api.model
    def bridge_ping(self, server_name, request_id=None):
        self._for_bridge(server_name)
        return {"ok": True, "db": self.env.cr.dbname, "login": self.env.user.login}

    def _may_be_told(self, user):
        """Replies of this server reach its PBX users (click-to-call) and the Asterisk admins (conf files)."""
        self.ensure_one()
        return user.has_group(ADMIN) or bool(
            self.env["asterisk_plus.user"]
            .sudo()
            .search_count([("user_id", "=", user.id), ("server_id", "=", self.id)])
        )

    @api.model
    def bridge_on_replies(self, server_name, items):
        server = self._for_bridge(server_name)
        self.env["asterisk_plus.conf"]._on_upload_results(server, items)
        results = []
        for item in items:
            uid = to_int(item.get("@uid"))
            if not uid:  # a request from the agent's own side (the pbx CLI, a sync at start): nobody to tell
                results.append({"status": "ok"})
                continue
            user = self.env["res.users"].sudo().browse(uid).exists()
            if not user or not server._may_be_told(user):
                error = f"user {uid} is neither a PBX user of {server.name} nor an Asterisk administrator"
                results.append({"status": "error", "error": error})
                continue
            ok = item.get("@status") == "ok"
            message = item.get("Message") or item.get("@error") or item.get("Response") or ""
            # In the reader's language, not the system account's (`_` is this function's own from here).
            _ = translator(self.with_context(lang=user.lang).env)
            self.env["bus.bus"]._sendone(
                user.partner_id,
                "simple_notification",
                {
                    "type": "success" if ok else "danger",
                    "title": _("Asterisk: %s", item.get("@request_type") or "reply"),
                    "message": message or (_("Done") if ok else _("Failed")),
                    "sticky": not ok,
                },
            )
            results.append({"status": "ok"})
        return results

    @api.model
    def bridge_on_initial_done(self, server_name, items):
        server = self._for_bridge(server_name)
        results = []
        for item, seen in zip(items, bus.on_bus(server, "to_odoo", items), strict=True):
            if not seen or item.get("@type") != "conf.initial_done":
                results.append({"status": "error", "error": "no such conf.initial_done on the bus"})
                continue
            server.initial_update_done = True
            results.append({"status": "ok"})
        return results

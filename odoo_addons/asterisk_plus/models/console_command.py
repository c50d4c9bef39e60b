import logging

from odoo import api, fields, models

from ..rights import ADMIN
from .call import parse_at

_logger = logging.getLogger(__name__)


class ConsoleCommand(models.Model):
    """A command typed in the agent's web console, as the console reported it (`to_odoo`, console.command)."""

    _name = "asterisk_plus.console_command"
    _description = "Console command"
    _order = "at desc, id desc"
    _rec_name = "command"

    server_id = fields.Many2one("asterisk_plus.server", required=True, index=True, ondelete="cascade")
    user_id = fields.Many2one("res.users", string="User", index=True, ondelete="set null")
    login = fields.Char(help="The login the console knew the user by (kept if the user is gone).")
    command = fields.Char(required=True)
    status = fields.Selection([("ok", "OK"), ("error", "Error")], required=True, default="ok")
    output = fields.Text()
    at = fields.Datetime(string="At", index=True, help="When the command ran (UTC)")
    entry_id = fields.Char(string="Bus entry", required=True, help="The entry's @id: the dedupe key")

    _sql_constraints = [
        ("entry_unique", "unique(server_id, entry_id)", "A console command is recorded once per server.")
    ]

    @api.model
    def bridge_on_commands(self, server_name, items):
        server = self.env["asterisk_plus.server"]._for_bridge(server_name)
        records = self.sudo()
        ids = [str(i.get("@id")) for i in items if i.get("@id")]
        seen = set(
            records.search([("server_id", "=", server.id), ("entry_id", "in", ids)]).mapped("entry_id")
        )
        results = []
        for item in items:
            entry_id = str(item.get("@id") or "")
            if entry_id in seen:
                results.append({"status": "duplicate"})
                continue
            try:
                values = self._values_from_item(server, item)
            except (ValueError, TypeError) as exc:
                _logger.info("console command refused: %s (%s %s)", exc, server.name, entry_id)
                results.append({"status": "error", "error": f"{type(exc).__name__}: {exc}"})
                continue
            records.create(values)
            seen.add(entry_id)
            results.append({"status": "ok"})
        return results

    def _values_from_item(self, server, item):
        entry_id = str(item.get("@id") or "")
        if not entry_id:
            raise ValueError("no @id")
        command = str(item.get("command") or "").strip()
        if not command:
            raise ValueError("no command")
        status = item.get("status") or "ok"
        if status not in ("ok", "error"):
            raise ValueError(f"status {status!r} is neither ok nor error")
        # The console is for Asterisk admins alone: a command in anyone else's name did not come from it.
        uid = int(item.get("@uid") or 0)
        user = self.env["res.users"].sudo().browse(uid).exists() if uid > 0 else self.env["res.users"]
        if not user or not user.has_group(ADMIN):
            raise ValueError(f"user {uid} is not an Asterisk administrator: the console is not theirs")
        if item.get("@user") and item["@user"] != user.login:
            raise ValueError(f"@user {item['@user']!r} is not the login of user {uid}")
        return {
            "server_id": server.id,
            "entry_id": entry_id,
            "user_id": user.id,
            "login": user.login,
            "command": command,
            "status": status,
            "output": item.get("output") or "",
            "at": (parse_at(item.get("@at")) or fields.Datetime.now()).replace(microsecond=0),
        }

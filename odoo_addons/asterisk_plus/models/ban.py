from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression

from .. import bus_client as bus
from ..rights import require_admin
from ..wizard.ban_wizard import normalize_address
from .call import parse_at

STATES = [("active", "Active"), ("expired", "Expired"), ("lifted", "Lifted")]


class Ban(models.Model):
    _name = "asterisk_plus.ban"
    _description = "Address banned by the guard"
    _order = "banned_at desc"

    address = fields.Char(required=True, index=True)
    server_id = fields.Many2one("asterisk_plus.server", required=True, ondelete="cascade")
    reason = fields.Char()
    count = fields.Integer()
    banned_at = fields.Datetime(default=fields.Datetime.now)
    until = fields.Datetime(help="Empty: permanent")
    active = fields.Boolean(default=True, help="Cleared when the address is unbanned (or banned again)")
    state = fields.Selection(
        STATES,
        compute="_compute_state",
        search="_search_state",
        help="Active until its Until; Expired after it (the guard lets the address in again by itself, no "
        "unban message comes); Lifted once unbanned.",
    )

    @api.depends("active", "until")
    def _compute_state(self):
        now = fields.Datetime.now()
        for ban in self:
            if not ban.active:
                ban.state = "lifted"
            else:
                ban.state = "expired" if ban.until and ban.until <= now else "active"

    def _search_state(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(_("Bans are searched by state with =, !=, in or not in"))
        wanted = {value} if isinstance(value, str) else set(value or ())
        now = fields.Datetime.now()
        domains = {
            "active": ["&", ("active", "=", True), "|", ("until", "=", False), ("until", ">", now)],
            "expired": ["&", "&", ("active", "=", True), ("until", "!=", False), ("until", "<=", now)],
            "lifted": [("active", "=", False)],
        }
        if operator in ("!=", "not in"):
            wanted = set(domains) - wanted
        return expression.OR(
            [domains[state] for state in sorted(wanted & set(domains))] or [expression.FALSE_DOMAIN]
        )

    @api.model
    def bridge_on_bans(self, server_name, items):
        server = self.env["asterisk_plus.server"]._for_bridge(server_name)
        bans = self.sudo().with_context(active_test=False)
        results = []
        for item in items:
            try:
                values = self._values_from_item(item)
            except (ValueError, TypeError) as exc:
                results.append({"status": "error", "error": f"{type(exc).__name__}: {exc}"})
                continue
            current = bans.search(
                [("server_id", "=", server.id), ("address", "=", values["address"]), ("active", "=", True)]
            )
            current.write({"active": False})
            if item["@type"] == "guard.ban":
                bans.create(dict(values, server_id=server.id))
            results.append({"status": "ok"})
        return results

    @api.model
    def _values_from_item(self, item):
        """A ban or unban as the guard sends it, or ValueError: the system account records nothing else."""
        if item.get("@type") not in ("guard.ban", "guard.unban"):
            raise ValueError(f"@type {item.get('@type')!r} is neither guard.ban nor guard.unban")
        address = normalize_address(item.get("address"))
        if address is None:
            raise ValueError(f"{item.get('address')!r} is not an IP address")
        if item["@type"] == "guard.unban":
            return {"address": address}
        count = int(item.get("count") or 0)
        if count < 0:
            raise ValueError(f"count {count} is negative")
        return {
            "address": address,
            "reason": str(item.get("reason") or "")[:500],
            "count": count,
            "until": parse_at(item.get("until")) or False,
        }

    def action_unban(self):
        require_admin(self.env, _("unban an address"))
        for ban in self:
            bus.publish_after_commit(
                self.env,
                ban.server_id,
                "commands:guard",
                bus.fields_for(
                    ban.server_id,
                    "unban",
                    {"address": ban.address},
                    reply_to="to_odoo",
                    uid=self.env.uid,
                    user=self.env.user.login,
                ),
            )
        self.write({"active": False})

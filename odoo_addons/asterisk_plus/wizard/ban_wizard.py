import ipaddress

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .. import bus_client as bus
from ..rights import require_admin


def normalize_address(text):
    """The address as the guard keys it (services/guard/rules.py `normalize_address`), or None.

    Brackets and an IPv6 scope are dropped, an IPv4-mapped IPv6 address becomes IPv4. Networks are refused:
    the guard bans single addresses (networks go to the access list with "Deny")."""
    host = (text or "").strip().strip("[]").split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


# The guard's longest ban (services/guard/rules.py MAX_BANTIME_S): a longer one is refused there.
MAX_DURATION_MIN = 366 * 24 * 60


class BanWizard(models.TransientModel):
    """A manual ban: the guard's `ban` command on `commands:guard` (services/guard/guard.py `_command`)."""

    _name = "asterisk_plus.ban_wizard"
    _description = "Ban an address"

    server_id = fields.Many2one(
        "asterisk_plus.server",
        string="Server",
        required=True,
        ondelete="cascade",
        default=lambda s: s._default_server(),
    )
    address = fields.Char(required=True, help="One IPv4 or IPv6 address, e.g. 203.0.113.7")
    duration = fields.Integer(
        string="Duration (minutes)", default=60, required=True, help="0 bans the address for good."
    )
    reason = fields.Char(help="Shown in the bans list. Empty: 'banned by <your login>'.")

    @api.model
    def _default_server(self):
        context = self.env.context
        if context.get("active_model") == "asterisk_plus.server" and context.get("active_id"):
            return context["active_id"]
        servers = self.env["asterisk_plus.server"].search([], limit=2)
        return servers.id if len(servers) == 1 else False

    @api.constrains("address")
    def _check_address(self):
        for rec in self:
            if normalize_address(rec.address) is None:
                raise ValidationError(_("%s is not an IP address", rec.address))

    @api.constrains("duration")
    def _check_duration(self):
        for rec in self:
            if not 0 <= rec.duration <= MAX_DURATION_MIN:
                raise ValidationError(
                    _("The duration is in minutes, 0 (permanent) to %s (366 days)", MAX_DURATION_MIN)
                )

    def _allowed_by_access_list(self, address):
        ip = ipaddress.ip_address(address)
        rows = self.env["asterisk_plus.access_list"].search(
            [("server_id", "=", self.server_id.id), ("action", "=", "allow")]
        )
        for row in rows:
            try:
                network = ipaddress.ip_network(row.address.strip(), strict=False)
            except ValueError:
                continue
            if ip.version == network.version and ip in network:
                return row
        return None

    def action_ban(self):
        require_admin(self.env, _("ban an address"))
        self.ensure_one()
        address = normalize_address(self.address)  # valid: _check_address held when the wizard was saved
        allowed = self._allowed_by_access_list(address)
        if allowed:
            raise UserError(
                _("%s is allowed by the access list (%s): the guard never bans it", address, allowed.address)
            )
        server = self.server_id
        headers = {
            "address": address,
            "reason": (self.reason or "").strip() or _("banned by %s", self.env.user.login),
            "bantime": str(self.duration * 60),
        }
        bus.publish_after_commit(
            self.env,
            server,
            "commands:guard",
            # The guard answers through the bridge: the admin sees a ban it refused, not only `dead`.
            bus.fields_for(
                server, "ban", headers, reply_to="to_odoo", uid=self.env.uid, user=self.env.user.login
            ),
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Ban"),
                "message": _(
                    "%s sent to the guard of %s: it shows in Bans once applied", address, server.name
                ),
                "type": "info",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

"""The server's system account: the portal user the agent logs in with, and nothing else.

An Asterisk administrator sets its password from the server form (written with sudo), so the form must never
reach another account: the system account is a portal user the module made for this purpose (marked
`asterisk_system_account`, a mark only the module and Odoo's user admins can set), one per server."""

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..rights import require_admin

# The seed's password (data/system_account.xml): public, so the form warns while it is in use.
DEFAULT_PASSWORD = "asterisk1"


class AsteriskServerSystemAccount(models.Model):
    _inherit = "asterisk_plus.server"

    user_id = fields.Many2one(
        "res.users",
        string="System account",
        readonly=True,
        copy=False,  # a copied server makes its own
        ondelete="restrict",
        help="The portal user the agent logs in with (ODOO_USER), made with the server. "
        "Use it for nothing else.",
    )
    password = fields.Char(
        compute="_compute_password",
        inverse="_inverse_password",
        store=False,
        groups="asterisk_plus.group_admin",
        help="Set a new password for the system account. "
        "Then set the same value as the agent's ODOO_PASSWORD.",
    )
    default_password_in_use = fields.Boolean(
        compute="_compute_default_password_in_use",
        groups="asterisk_plus.group_admin",
        help="The system account still has the seed's password, which anyone can read in the module.",
    )

    _sql_constraints = [("user_unique", "unique(user_id)", "Each server has a system account of its own.")]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("user_id"):
                name = vals.get("name") or self.default_get(["name"]).get("name")
                vals["user_id"] = self._new_system_account(name).id
        return super().create(vals_list)

    @api.model
    def _new_system_account(self, login):
        users = self.env["res.users"].sudo().with_context(active_test=False, no_reset_password=True)
        if users.search_count([("login", "=", login)]):
            raise UserError(
                _("A user with login %s exists already: the server's system account takes its name.", login)
            )
        return users.create(
            {
                "name": _("Asterisk system account (%s)", login),
                "login": login,
                "groups_id": [Command.set([self.env.ref("base.group_portal").id])],
                "asterisk_system_account": True,
            }
        )

    @api.constrains("user_id")
    def _check_system_account(self):
        for rec in self:
            if not rec.user_id or not rec.user_id._is_asterisk_system_account():
                raise ValidationError(
                    _(
                        "The system account of %s can only be the portal user made for it, not %s.",
                        rec.name,
                        rec.user_id.login or "nobody",
                    )
                )

    @api.model
    def _mark_system_accounts(self):
        """Install and upgrade: the portal users the servers already use (made before the mark) are marked."""
        for server in self.sudo().search([]):
            user = server.user_id
            if user.share and user.has_group("base.group_portal") and not user.asterisk_system_account:
                user.asterisk_system_account = True

    def _compute_password(self):
        for rec in self:
            rec.password = ""

    def _inverse_password(self):
        for rec in self:
            if not rec.password:
                continue
            require_admin(self.env, _("set the system account's password"))
            if not rec.user_id._is_asterisk_system_account():
                raise AccessError(
                    _(
                        "%s is not the portal user made for this server: its password is not set from here.",
                        rec.user_id.login,
                    )
                )
            rec.user_id.sudo().write({"password": rec.password})

    def _compute_default_password_in_use(self):
        for rec in self:
            user = rec.user_id.sudo()
            rec.default_password_in_use = bool(user) and user._asterisk_password_is(DEFAULT_PASSWORD)

"""Each user's own phone settings (My Preferences): the incoming call pop-up and missed calls; and the mark
of a server's system account (system_account.py)."""

from odoo import fields, models

PREFERENCES = [
    "asterisk_popup",
    "asterisk_popup_open",
    "asterisk_popup_sticky",
    "asterisk_missed_activity",
]

# (stored hash, password) -> verified: a hash check costs a good part of a second, the form asks each time.
_VERIFIED = {}


class ResUsers(models.Model):
    _inherit = "res.users"

    asterisk_popup = fields.Boolean(
        string="Incoming call pop-up",
        default=True,
        help="A pop-up with the caller's name, company and record while your phone rings",
    )
    asterisk_popup_open = fields.Selection(
        [("never", "Never"), ("ring", "When my phone rings"), ("answer", "When I answer")],
        string="Open the caller's record",
        default="never",
        required=True,
        help="Open the caller's record by itself",
    )
    asterisk_popup_sticky = fields.Boolean(
        string="Pop-up stays until closed",
        help="Otherwise it closes by itself a few seconds after the call was answered or ended",
    )
    asterisk_missed_activity = fields.Boolean(
        string="'Call back' activity for missed calls",
        help="A call your phone rang for and nobody answered leaves you a 'Call back' activity on the caller "
        "(or on the call when the number is unknown)",
    )
    asterisk_system_account = fields.Boolean(
        readonly=True,
        copy=False,
        help="A portal user an Asterisk server made for its agent to log in with.",
    )

    def _is_asterisk_system_account(self):
        self.ensure_one()
        user = self.sudo()
        return bool(user.asterisk_system_account and user.share and user.has_group("base.group_portal"))

    def _asterisk_password_is(self, password):
        """Whether the user's stored password is `password` (reads the hash as Odoo's login does)."""
        self.ensure_one()
        self.env.cr.execute("SELECT COALESCE(password, '') FROM res_users WHERE id = %s", [self.id])
        row = self.env.cr.fetchone()
        hashed = row[0] if row else ""
        if not hashed:
            return False
        key = (hashed, password)
        if key not in _VERIFIED:
            if len(_VERIFIED) > 256:
                _VERIFIED.clear()
            _VERIFIED[key] = bool(self._crypt_context().verify(password, hashed))
        return _VERIFIED[key]

    @property
    def SELF_READABLE_FIELDS(self):
        return super().SELF_READABLE_FIELDS + PREFERENCES

    @property
    def SELF_WRITEABLE_FIELDS(self):
        return super().SELF_WRITEABLE_FIELDS + PREFERENCES

    def _asterisk_can_call(self):
        """Click-to-call is for Asterisk users with an extension (a PBX user) on some server."""
        self.ensure_one()
        return bool(
            self.has_group("asterisk_plus.group_user")
            and self.env["asterisk_plus.user"].sudo().search_count([("user_id", "=", self.id)], limit=1)
        )

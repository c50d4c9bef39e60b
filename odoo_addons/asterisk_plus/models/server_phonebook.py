"""The server's phonebook settings: publishing on or off, the token the agent's phonebook endpoint asks for,
the URL Asterisk and the desk phones reach it at, the dialplan snippet, and the rebuild button."""

import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import bus_client as bus
from ..rights import require_admin
from .call import parse_at_or_false
from .phonebook import new_token

_logger = logging.getLogger(__name__)

try:
    import redis
except ImportError:
    redis = None

DIALPLAN = """; Gosub(phonebook-cid,s,1) first thing in an inbound context: the caller's name from Odoo's
; phonebook, answered by the agent from Redis (also while Odoo is down). Unknown numbers keep their name.
; CURL() needs Asterisk's func_curl (libcurl).
[phonebook-cid]
exten => s,1,Set(CURLOPT(conntimeout)=1)
 same => n,Set(CURLOPT(httptimeout)=1)
 same => n,Set(PHONEBOOK_NAME=${{CURL({url}/cid/${{URIENCODE(${{CALLERID(num)}})}}?token={token})}})
 same => n,GotoIf($[${{LEN(${{PHONEBOOK_NAME}})}} = 0]?done)
 same => n,Set(CALLERID(name)=${{PHONEBOOK_NAME}})
 same => n(done),Return()
"""


class ServerPhonebook(models.Model):
    _inherit = "asterisk_plus.server"

    phonebook_enabled = fields.Boolean(
        string="Publish the phonebook",
        default=True,
        help="Odoo writes every contact's numbers and names into the agent's Redis; the agent's phonebook "
        "service gives the caller's name to Asterisk and the desk phones.",
    )
    phonebook_url = fields.Char(
        string="Phonebook URL",
        default="http://127.0.0.1:48002",
        help="The agent's phonebook service as Asterisk and the desk phones reach it (PHONEBOOK_PORT)",
    )
    phonebook_token = fields.Char(copy=False, groups="asterisk_plus.group_admin")
    phonebook_size = fields.Integer(compute="_compute_phonebook", string="Numbers in the phonebook")
    phonebook_updated_at = fields.Char(compute="_compute_phonebook", string="Phonebook rebuilt (as written)")
    phonebook_rebuilt = fields.Datetime(compute="_compute_phonebook", string="Phonebook rebuilt")
    phonebook_bus_error = fields.Boolean(compute="_compute_phonebook", string="Bus unreachable")
    phonebook_dialplan = fields.Text(compute="_compute_phonebook_texts", groups="asterisk_plus.group_admin")
    phonebook_xml_url = fields.Char(
        compute="_compute_phonebook_texts",
        string="Desk phones' remote phonebook",
        groups="asterisk_plus.group_admin",
    )

    def _compute_phonebook(self):
        for rec in self:
            rec.phonebook_size, rec.phonebook_updated_at, rec.phonebook_bus_error = 0, "", False
            rec.phonebook_rebuilt = False
            if not rec.phonebook_enabled:
                continue
            try:
                client = bus.client(rec)
                rec.phonebook_size = client.hlen(bus.key(rec, "phonebook"))
                rec.phonebook_updated_at = client.hget(bus.key(rec, "phonebook:meta"), "updated_at") or ""
            except Exception:  # noqa: BLE001 - the form must open even when the bus is away
                rec.phonebook_bus_error = True
                continue
            rec.phonebook_rebuilt = parse_at_or_false(rec.phonebook_updated_at)

    @api.depends("phonebook_url", "phonebook_token")
    def _compute_phonebook_texts(self):
        for rec in self:
            url = (rec.phonebook_url or "").rstrip("/")
            token = rec.phonebook_token or "<press Rebuild>"
            rec.phonebook_dialplan = DIALPLAN.format(url=url, token=token)
            rec.phonebook_xml_url = f"{url}/phonebook/yealink.xml?token={token}"

    def write(self, vals):
        result = super().write(vals)
        if {"country_id", "phonebook_enabled", "redis_url", "bus_prefix"} & set(vals):
            for rec in self.filtered("phonebook_enabled"):
                rec._publish_phonebook_meta()
        return result

    def _publish_phonebook_meta(self):
        """The token and country the phonebook service reads, after commit."""
        self.ensure_one()
        target = bus.detached(self)
        meta = self.env["asterisk_plus.phonebook"]._meta(self.sudo())
        if not meta["token"]:
            return  # nothing published yet: the first rebuild writes it all

        def send():
            try:
                bus.client(target).hset(bus.key(target, "phonebook:meta"), mapping=meta)
            except Exception as exc:  # noqa: BLE001 - the next rebuild writes it again
                _logger.warning("phonebook meta of %s not published: %s", target.name, exc)

        self.env.cr.postcommit.add(send)

    def action_phonebook_rebuild(self):
        require_admin(self.env, _("rebuild the phonebook"))
        self.ensure_one()
        if not self.phonebook_enabled:
            raise UserError(_("Publishing the phonebook is off for %s", self.name))
        try:
            count = self.env["asterisk_plus.phonebook"]._rebuild(self.sudo())
        except redis.RedisError as exc:
            raise bus.unreachable(self, exc) from exc
        return self._notify(_("Phonebook"), _("%s numbers published to the agent", count), "success")

    def action_phonebook_new_token(self):
        require_admin(self.env, _("change the phonebook token"))
        self.ensure_one()
        self.sudo().phonebook_token = new_token()
        self._publish_phonebook_meta()
        return self._notify(
            _("Phonebook"),
            _("New token: put the new dialplan snippet into Asterisk and the new URL into the desk phones"),
            "warning",
        )

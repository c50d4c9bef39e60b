"""PBX users: an Odoo user, an extension, the phones to ring on click-to-call and how to originate."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .. import call_events


class PbxUser(models.Model):
    _name = "asterisk_plus.user"
    _description = "PBX user: an Odoo user, an extension and their phones"
    _rec_name = "extension"

    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    extension = fields.Char(required=True)
    server_id = fields.Many2one("asterisk_plus.server", required=True)
    channel = fields.Char(
        compute="_compute_channel",
        inverse="_inverse_channel",
        help="The first phone, e.g. PJSIP/101 (the phones are listed below)",
    )
    channel_ids = fields.One2many("asterisk_plus.user.channel", "pbx_user_id", string="Phones")
    originate_mode = fields.Selection(
        [("all", "Ring all phones"), ("chosen", "Ring the chosen phone")],
        default="all",
        required=True,
        string="Click-to-call rings",
    )
    originate_channel_id = fields.Many2one(
        "asterisk_plus.user.channel",
        string="Chosen phone",
        domain="[('pbx_user_id', '=', id)]",
    )
    originate_context = fields.Char(
        string="Context", help="Dialplan context the called number is dialled in. Empty: the server's."
    )
    originate_timeout = fields.Integer(
        string="Ring timeout", help="Seconds your phone rings before Asterisk gives up. 0: the server's."
    )
    originate_callerid = fields.Char(
        string="Caller ID on your phone",
        help="What your phone shows while it rings for a click-to-call; {name} and {number} are those of "
        "the called party. Empty: {name} <{number}>.",
    )
    originate_variables = fields.Text(
        string="Channel variables", help="Set on the call's channel: one NAME=value a line."
    )
    record_calls = fields.Boolean(
        help="Under the server's policy 'Calls of the PBX users marked Record calls', this user's calls "
        "(answered or made) are recorded"
    )

    @api.depends("channel_ids.name")
    def _compute_channel(self):
        for rec in self:
            rec.channel = rec.channel_ids[:1].name or False

    def _inverse_channel(self):
        for rec in self:
            if not rec.channel:
                continue
            if rec.channel_ids:
                rec.channel_ids[:1].name = rec.channel
            else:
                rec.channel_ids = [(0, 0, {"name": rec.channel})]

    @api.constrains("originate_variables")
    def _check_variables(self):
        for rec in self:
            for line in rec._variables():
                if "=" not in line or not line.split("=", 1)[0].strip():
                    raise ValidationError(_("Channel variables are NAME=value lines, not %r", line))

    def _variables(self):
        return [line.strip() for line in (self.originate_variables or "").splitlines() if line.strip()]

    def _phones(self, phone=None):
        self.ensure_one()
        if phone:
            if phone.pbx_user_id != self:
                raise UserError(_("That phone is not one of yours"))
            return phone
        if self.originate_mode == "chosen" and self.originate_channel_id:
            return self.originate_channel_id
        phones = self.channel_ids.filtered("originate") or self.channel_ids
        if not phones:
            raise UserError(_("Extension %s has no phone to ring: ask an Asterisk admin", self.extension))
        return phones

    def _originate_actions(self, number, name, request_ids, phones):
        """One AMI Originate per phone: it rings, and once answered the dialplan dials `number`."""
        self.ensure_one()
        server = self.server_id
        callerid = self.originate_callerid or "{name} <{number}>"
        callerid = callerid.replace("{name}", name or number).replace("{number}", self.extension)
        actions = []
        for request_id, phone in zip(request_ids, phones, strict=True):
            headers = {
                "Action": "Originate",
                "Channel": phone.name,
                "ChannelId": call_events.channel_id(request_id),
                "Context": self.originate_context or server.originate_context,
                "Exten": number,
                "Priority": "1",
                "Async": "true",
                "Timeout": str(1000 * (self.originate_timeout or server.originate_timeout or 30)),
                "CallerID": callerid,
            }
            variables = self._variables() + phone._auto_answer_variables()
            if variables:
                headers["Variable"] = variables
            actions.append(headers)
        return actions

    @api.model
    def _directory(self, server):
        """Who is behind a channel or an extension on this server (read once a batch)."""
        return _Directory(self.search([("server_id", "=", server.id)]))


class _Directory:
    def __init__(self, pbx_users):
        self.by_channel = {}
        self.by_exten = {}
        for pbx_user in pbx_users:
            self.by_exten.setdefault(pbx_user.extension, pbx_user.user_id.id)
            for phone in pbx_user.channel_ids:
                self.by_channel.setdefault(phone.name, pbx_user.user_id.id)

    def user_of(self, channel, exten):
        """The res.users id behind a channel (`PJSIP/101-0000000a`: phone `PJSIP/101`) or extension."""
        if channel:
            found = self.by_channel.get(call_events.channel_base(channel))
            if found:
                return found
        return self.by_exten.get(exten or "", False)

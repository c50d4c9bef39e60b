"""The call journal: one call per Linkedid, its legs, and what its facts say (../call_state.py)."""

import json
from datetime import UTC, datetime
from html import escape

import pytz
from odoo import api, fields, models, release

from .. import call_events, call_state, call_words
from ..compat import translator

try:
    import phonenumbers
except ImportError:
    phonenumbers = None

# How a list groups a number: `aggregator` since Odoo 18, `group_operator` before.
AGGREGATOR = "aggregator" if release.version_info[0] >= 18 else "group_operator"

STATUSES = [
    ("dialing", "Dialing"),
    ("ringing", "Ringing"),
    ("up", "In progress"),
    ("answered", "Answered"),
    ("missed", "Missed"),
    ("noanswer", "No answer"),
    ("busy", "Busy"),
    ("congestion", "Congestion"),
    ("failed", "Failed"),
]


def e164(number, country):
    if not number or phonenumbers is None:
        return number or ""
    try:
        parsed = phonenumbers.parse(number, country or None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def parse_at(value):
    """A bus `@at` (UTC ISO) as a naive datetime (Odoo UTC); False when empty, ValueError if unreadable."""
    if not value:
        return False
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def parse_at_or_false(value):
    """parse_at for a value shown on a form: an unreadable one shows as empty rather than failing."""
    try:
        return parse_at(value)
    except (TypeError, ValueError):
        return False


def state_time(value):
    """A time of the call state (UTC, `YYYY-MM-DD HH:MM:SS.ffffff`) as a naive datetime, False when empty."""
    text = call_events.parse_time(value)
    return datetime.fromisoformat(text) if text else False


def call_name(caller, called):
    return f"{caller or '?'} -> {called or '?'}"


class Call(models.Model):
    _name = "asterisk_plus.call"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _description = "Call"
    _order = "started_at desc, id desc"
    _mail_post_access = "read"  # whoever sees a call may write about it in its chatter

    name = fields.Char(help="caller -> called")
    server_id = fields.Many2one("asterisk_plus.server", required=True, ondelete="cascade", index=True)
    linkedid = fields.Char(required=True, index=True, help="Asterisk's Linkedid: the key of the call")
    direction = fields.Selection([("in", "Incoming"), ("out", "Outgoing"), ("internal", "Internal")])
    caller = fields.Char(help="E.164 when external")
    called = fields.Char(help="E.164 when external")
    partner_id = fields.Many2one("res.partner", index=True)
    user_id = fields.Many2one(
        "res.users",
        string="User",
        index=True,
        help="Incoming: who answered (or whose phone rang first); outgoing and internal: who called",
    )
    participant_ids = fields.Many2many(
        "res.users",
        "asterisk_plus_call_participant_rel",
        "call_id",
        "user_id",
        string="Participants",
        help="Every user whose phone took part: they see the call",
    )
    status = fields.Selection(STATUSES, default="ringing", index=True)
    answered = fields.Boolean(index=True)
    answered_by_dialplan = fields.Boolean(
        help="Answered by the PBX itself (an IVR, a voicemail), nobody dialled"
    )
    answered_user_id = fields.Many2one("res.users", string="Answered by")
    answered_channel = fields.Char()
    answered_exten = fields.Char(string="Answered on extension")
    answered_member = fields.Char(string="Queue member")
    abandoned = fields.Boolean(help="The caller gave up waiting in a queue")
    queue = fields.Char()
    reason = fields.Char(help="Why the call was not answered, in words")
    started_at = fields.Datetime(index=True)
    answered_at = fields.Datetime()
    ended_at = fields.Datetime()
    duration = fields.Integer(help="Seconds from the first event to the end")
    talk_time = fields.Integer(help="Seconds from the answer to the end")
    ring_time = fields.Integer(help="Seconds before the answer (or the end)", **{AGGREGATOR: "avg"})
    start_hour = fields.Integer(
        string="Hour",
        help="Hour of the day the call started, in the server's timezone",
        **{AGGREGATOR: False},
    )
    request_id = fields.Char(index=True, help="Bus request id of the click-to-call that made this call")
    res_model = fields.Char(string="From model", help="The record the click-to-call came from")
    res_id = fields.Many2oneReference(string="From record", model_field="res_model")
    leg_ids = fields.One2many("asterisk_plus.call.leg", "call_id", string="Legs")
    facts = fields.Text(groups="base.group_system", help="What Asterisk said about the call (JSON)")
    timeline = fields.Html(compute="_compute_timeline", sanitize=False)
    partner_logged = fields.Boolean(help="The call was written on the partner's chatter")
    written = fields.Text(groups="base.group_system", help="The values the journal last wrote (JSON)")

    _sql_constraints = [("linkedid_unique", "unique(server_id, linkedid)", "One call per Linkedid.")]

    def _facts(self):
        self.ensure_one()
        return json.loads(self.sudo().facts or "{}")

    def _company_env(self):
        """The environment in the company's language: for words stored once for every reader (the reason,
        the chatter line, the server's timezone warning)."""
        return self.with_context(lang=self.env.company.partner_id.lang or "en_US").env

    def _summary(self, _=None):
        """The call's summary; its words through the translator `_` (English without one)."""
        return call_state.summarize(self._facts(), self.linkedid, _ or call_words.plain)

    @api.depends("facts")
    @api.depends_context("lang")
    def _compute_timeline(self):
        for rec in self:
            if not rec.id or not rec.linkedid:
                rec.timeline = False
                continue
            tz = pytz.timezone(rec.server_id.tz or "UTC")
            rows = []
            # Computed, not stored: in the language of whoever reads it.
            for at, words in rec._summary(translator(rec.env))["timeline"]:
                local = state_time(at)
                shown = pytz.utc.localize(local).astimezone(tz).strftime("%H:%M:%S.%f")[:-3] if local else ""
                rows.append(f"<tr><td>{shown}</td><td>{escape(words)}</td></tr>")
            rec.timeline = f"<table class='table table-sm'>{''.join(rows)}</table>"

    def action_open_origin(self):
        self.ensure_one()
        if not self.res_model or not self.res_id:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }

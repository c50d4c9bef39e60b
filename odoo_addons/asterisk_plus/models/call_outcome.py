"""What a call's summary (../call_state.py) becomes in Odoo: field values, its partner and the users it
concerns, and what follows (the rung users' pop-ups (call_notify.py), notifications, the partner's chatter,
the other phones of a ring-all hung up, the server's timezone warning)."""

import json
import logging

import pytz
from markupsafe import Markup, escape
from odoo import models

from .. import bus_client as bus
from .. import call_events as ev
from .. import call_popup, call_state
from ..compat import translator
from .call import call_name, state_time

_logger = logging.getLogger(__name__)

ENDED = {"answered", "missed", "noanswer", "busy", "congestion", "failed"}
FAILED = ENDED - {"answered", "missed"}


def same(record, name, value):
    """Does the record already hold this value (as given to write)?"""
    field = record._fields[name]
    current = record[name]
    if field.type == "many2one":
        return current.id == (value or False) or (not current and not value)
    if field.type == "many2many":
        return set(current.ids) == set(value[0][2])
    return (current or False) == (value or False)


class CallOutcome(models.Model):
    _inherit = "asterisk_plus.call"

    def _values(self, server, b, people, partners):
        s = b.summary
        by = s["answered_by"] or {}
        originate = b.facts.get("@originate") or {}
        answered_user = people.user_of(by.get("channel"), by.get("exten")) if by else False
        rung = [people.user_of(target, ev.channel_exten(target)) for target in s["rung"]]
        legs = [people.user_of(leg["channel"], leg["exten"]) for leg in s["legs"]]
        if s["direction"] == "in":
            # No phone rang when the called one is not registered (no DialBegin): the call is still the
            # missed call of the user whose extension was called.
            user = answered_user or next(filter(None, rung), False) or people.user_of("", s["called"])
        else:
            user = originate.get("uid") or people.user_of("", s["caller"]) or next(filter(None, legs), False)
        participants = sorted({u for u in [user, answered_user, *rung, *legs] if u})
        started = state_time(s["started_at"])
        values = {
            "name": call_name(s["caller"], s["called"]),
            "direction": s["direction"],
            "caller": s["caller"],
            "called": s["called"],
            "status": s["status"],
            "answered": s["answered"],
            "answered_by_dialplan": s["answered_by_dialplan"],
            "answered_user_id": answered_user or False,
            "answered_channel": by.get("channel") or False,
            "answered_exten": by.get("exten") or False,
            "answered_member": by.get("member") or False,
            "abandoned": bool(s["abandoned"]),
            "queue": s["queue"] or False,
            "reason": s["reason"] or False,
            "started_at": started,
            "answered_at": state_time(s["answered_at"]),
            "ended_at": state_time(s["ended_at"]),
            "duration": s["duration"],
            "talk_time": s["talk_time"],
            "ring_time": s["ring_time"],
            "start_hour": _local_hour(started, server.tz),
            "user_id": user or False,
            "participant_ids": [(6, 0, participants)],
            "facts": json.dumps(b.facts, separators=(",", ":")),
        }
        if not (b.record and b.record.partner_id):
            number = s["caller"] if s["direction"] == "in" else s["called"]
            if partners.get(number):
                values["partner_id"] = partners[number]
        partner = values.get("partner_id") or (b.record and b.record.partner_id.id)
        logged = b.record and b.record.partner_logged
        if s["status"] in ENDED and partner and server.log_calls_on_partner and not logged:
            values["partner_logged"] = True
            b.effects.append(("log", partner))
        return values

    def _check_timezone(self, server, bufs):
        """A Cdr that ended far from when it arrived was read in another timezone than Asterisk's clock."""
        skews = [
            (ev.cdr_skew(fact), fact)
            for b in bufs.values()
            for _fid, fact in b.new_facts
            if ev.cdr_skew(fact) is not None
        ]
        if not skews:
            return
        skew, fact = max(skews, key=lambda pair: abs(pair[0]))
        warning = ""
        if abs(skew) > call_state.SKEW_S:
            _ = translator(self._company_env())
            args = (fact["end"][:19], server.tz or "UTC", fact["arr"][:19], f"{abs(skew) / 60:.0f}")
            if skew > 0:
                warning = _(
                    "Asterisk's timezone differs from the server's: a CDR that ended at %s UTC (its local "
                    "EndTime read as %s) arrived at %s UTC, %s minutes later. Set the timezone of this "
                    "server to the one Asterisk's clock runs in.",
                    *args,
                )
            else:
                warning = _(
                    "Asterisk's timezone differs from the server's: a CDR that ended at %s UTC (its local "
                    "EndTime read as %s) arrived at %s UTC, %s minutes earlier. Set the timezone of this "
                    "server to the one Asterisk's clock runs in.",
                    *args,
                )
        if (server.tz_warning or "") != warning:
            server.sudo().tz_warning = warning or False

    def _stop_siblings(self, server, b):
        """Ring all: once one phone answered, the others stop ringing (hung up by their channel id)."""
        originate = b.facts.get("@originate")
        if not originate or len(originate["reqs"]) < 2 or "@siblings" in b.facts:
            return False
        answered = b.summary["root_answered"]
        if not answered:
            return False
        ended = set(b.summary["roots_ended"])
        stop = [r["cid"] for r in originate["reqs"] if r["cid"] not in answered and r["cid"] not in ended]
        b.facts["@siblings"] = ev.siblings_fact(ev.now_iso(), answered[0], stop)
        for channel in stop:
            headers = {"Action": "Hangup", "Channel": channel, "Cause": "26"}  # 26: answered elsewhere
            b.effects.append(("publish", "actions", headers))
        return True

    def _partners_by_number(self, numbers):
        """{number: partner id} through the one lookup (lookup.py): a contact before its company."""
        found = self.env["asterisk_plus.lookup"]._lookup_many(numbers) if numbers else {}
        return {number: value[2] for number, value in found.items() if value[2]}

    def _effects(self, b, people, notify):
        """Who is told what once the batch is written: the rung users (the pop-up, a missed call); whose
        click-to-call failed."""
        effects = []
        s = b.summary
        if b.tell:
            missed = call_popup.missed(b.popup_before, b.popup)
            effects.append(("popup", tuple(b.tell), missed, b.popup["state"]))
        uid = (b.facts.get("@originate") or {}).get("uid")
        if notify and uid and s["status"] in FAILED and b.old_status not in ENDED:
            effects.append(("notify", uid, *self._failed_words(b, uid), "danger"))
        if s["status"] == "missed" and b.old_status != "missed":
            effects.append(("missed",))
        return [(kind, b.record.id, *rest) for kind, *rest in b.effects + effects]

    def _failed_words(self, b, uid):
        """(title, message) of a failed click-to-call's notification, in its user's language (the stored
        reason is in the company's)."""
        env = self.with_context(lang=self.env["res.users"].sudo().browse(uid).exists().lang or "en_US").env
        _ = translator(env)
        s = call_state.summarize(b.facts, b.key, _)
        status = dict(self._fields["status"]._description_selection(env))[s["status"]]
        return _("Call to %s failed", s["called"]), s["reason"] or status

    def _run_effects(self, server, effects):
        """Once the batch is written: notifications, chatter notes, actions for Asterisk (after commit)."""
        notes, logs, popups, missed = [], {}, [], []
        for effect in effects:
            kind, call_id = effect[0], effect[1]
            if kind == "missed":
                missed.append(call_id)
            elif kind == "popup":
                popups.append(effect[1:])
            elif kind == "notify":
                user, title, message, level = effect[2:]
                partner = self.env["res.users"].sudo().browse(user).partner_id
                notes.append(
                    (
                        partner,
                        "simple_notification",
                        {"type": level, "title": title, "message": message, "sticky": level == "danger"},
                    )
                )
            elif kind == "log":
                logs.setdefault(effect[2], []).append(call_id)
            elif kind == "publish":
                stream, headers = effect[2:]
                fields_ = bus.fields_for(server, "action", headers, user="odoo")
                bus.publish_after_commit(self.env, server, stream, fields_)
        for partner, kind, payload in notes:
            self.env["bus.bus"].sudo()._sendone(partner, kind, payload)
        if logs:
            self._log_on_partners(logs)
        if popups:
            self._tell_rung_users(server, popups)
        if missed:
            self._run_missed_calls_hook(server, missed)

    def _run_missed_calls_hook(self, server, call_ids):
        calls = self.sudo().browse(call_ids).exists()
        try:
            with self.env.cr.savepoint():
                calls._on_missed_calls(server)
        except Exception:  # noqa: BLE001 - the calls are stored; what another module does with them may fail
            _logger.exception("the missed calls hook failed for calls %s", calls.ids)

    def _on_missed_calls(self, server):
        """A hook for other modules: these calls (sudo) just ended missed, each once (an incoming call nobody
        answered, as the batch that ended it was written). Nothing here; e.g. asterisk_plus_crm makes a lead
        of a missed call from an unknown number."""
        return None

    def _log_on_partners(self, logs):
        partners = self.env["res.partner"].sudo().browse(list(logs))
        calls = {call.id: call for call in self.browse({i for ids in logs.values() for i in ids})}
        bodies = {}
        for partner_id, call_ids in logs.items():
            bodies[partner_id] = Markup("").join(calls[i]._chatter_line() for i in call_ids)
        try:
            partners._message_log_batch(bodies)
        except Exception:  # noqa: BLE001 - the call is stored; a chatter note is not worth losing it
            _logger.exception("could not write calls on the partners' chatter")

    def _chatter_line(self):
        self.ensure_one()
        env = self._company_env()
        _ = translator(env)
        labels = dict(self._fields["direction"]._description_selection(env))
        status = dict(self._fields["status"]._description_selection(env)).get(self.status, self.status)
        line = _(
            "%s call, %s: %s → %s",
            labels.get(self.direction, ""),
            status.lower(),
            self.caller or "?",
            self.called or "?",
        )
        if self.answered and self.talk_time:
            line += ", " + _("%s s", self.talk_time)
        if self.answered_user_id:
            line += f", {self.answered_user_id.name}"
        elif self.reason:
            line += f" ({self.reason})"
        return Markup("<p><a href='/web#model=asterisk_plus.call&amp;id=%s'>%s</a></p>") % (
            self.id,
            escape(line),
        )


def _local_hour(moment, tz):
    if not moment:
        return False
    return pytz.utc.localize(moment).astimezone(pytz.timezone(tz or "UTC")).hour

"""Calls in progress: the live view's news (Odoo's bus), Hang up, and Spy / Whisper / Barge for supervisors.

The journal tells the Call Managers (one notification to their group's bus channel) and the call's own users
which calls moved on (started, answered, ended) after each batch; the live view reloads them through the ORM,
so what each one sees still follows the record rules (the notification carries call ids, nothing more).

Supervising is an AMI Originate of the supervisor's phone to `ChanSpy(<channel>,<options>)`: `q` no beep
nor channel name, `w` whisper (the spied channel hears the supervisor), `B` barge (both parties do), and `E`
so the supervisor's phone hangs up when the spied channel does (without it ChanSpy waits for another channel
of that name, forever).

An unregistered supervisor's phone cannot be called: Asterisk queues the Originate, then its OriginateResponse
says it failed (Reason 0), and the gateway's reply carries that failure. The reply is matched to the call by
its request id (`spy_requests`): the supervisor is told in words and the call's chatter says so."""

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import bus_client as bus
from ..rights import check_access
from .call_recording import SUPERVISION_PREFIX

LIVE = "asterisk_plus.active_calls"  # the bus notification type the live view listens to
MANAGER = "asterisk_plus.group_call_manager"
SPY_OPTIONS = {"spy": "qE", "whisper": "qwE", "barge": "qBE"}
SPY_LABELS = {"spy": "Spy", "whisper": "Whisper", "barge": "Barge"}


class CallLive(models.Model):
    _inherit = "asterisk_plus.call"

    spy_requests = fields.Char(
        copy=False, help="Request ids of the Spy / Whisper / Barge asked on this call, with their mode"
    )

    # -- news for the live view ----------------------------------------------------------------------------

    def _effects(self, b, people, notify):
        effects = super()._effects(b, people, notify)
        if b.old_status != b.summary["status"]:
            effects.append(("live", b.record.id))
        return effects

    def _run_effects(self, server, effects):
        live = sorted({effect[1] for effect in effects if effect[0] == "live"})
        super()._run_effects(server, [effect for effect in effects if effect[0] != "live"])
        if live:
            self._tell_live(live)

    def _tell_live(self, call_ids):
        bus_bus = self.env["bus.bus"].sudo()
        managers = self.env.ref(MANAGER)
        bus_bus._sendone(managers, LIVE, {"call_ids": call_ids})
        by_user = {}
        for call in self.sudo().browse(call_ids):
            for user in call.user_id | call.participant_ids:
                by_user.setdefault(user, []).append(call.id)
        for user, ids in by_user.items():
            if not user.has_group(MANAGER):  # managers heard it on their group's channel
                bus_bus._sendone(user.partner_id, LIVE, {"call_ids": ids})

    # -- buttons -------------------------------------------------------------------------------------------

    def _live_legs(self):
        """The call's channels not hung up: its first channels (the caller's) first."""
        self.ensure_one()
        summary = self._summary()
        legs = [leg for leg in summary["legs"] if not leg.get("hangup")]
        return sorted(legs, key=lambda leg: leg["uniqueid"] not in summary["roots"]), summary

    def _publish_action(self, headers, request_id=None):
        server = self.server_id.sudo()
        message = bus.fields_for(
            server,
            "action",
            headers,
            id=request_id,
            reply_to="to_odoo" if server._may_be_told(self.env.user) else None,
            uid=self.env.uid,
            user=self.env.user.login,
        )
        return bus.publish_after_commit(self.env, server, "actions", message)

    def action_hangup(self):
        """End the call: its callers' channels hung up (the others follow), else whatever is still on."""
        self.ensure_one()
        if not self.env.user.has_group("asterisk_plus.group_user"):
            raise AccessError(_("Only Asterisk users may hang up calls"))
        check_access(self, "read")  # its users, Call Managers and admins
        legs, summary = self._live_legs()
        roots = [leg for leg in legs if leg["uniqueid"] in summary["roots"]]
        if not legs:
            raise UserError(_("This call is over"))
        for leg in roots or legs:
            self._publish_action(
                {"Action": "Hangup", "Channel": leg["channel"] or leg["uniqueid"], "Cause": "16"}
            )
        self._message_log(body=_("Hung up from Odoo by %s", self.env.user.name))
        return _notification(_("Hang up"), _("Asked Asterisk to end the call"), "info")

    def action_spy(self):
        return self._supervise("spy")

    def action_whisper(self):
        return self._supervise("whisper")

    def action_barge(self):
        return self._supervise("barge")

    def _supervise(self, mode):
        self.ensure_one()
        if not self.env.user.has_group(MANAGER):
            raise AccessError(_("Only Call Managers may listen in on calls"))
        check_access(self, "read")
        server = self.server_id
        me = (
            self.env["asterisk_plus.user"]
            .sudo()
            .search([("user_id", "=", self.env.uid), ("server_id", "=", server.id)], limit=1)
        )
        if not me:
            raise UserError(_("You have no extension on %s: ask an Asterisk admin to add you", server.name))
        phone = me._phones()[:1]
        target = self._spied_leg(me.user_id)
        request_id = bus.new_id()
        headers = {
            "Action": "Originate",
            "Channel": phone.name,
            # The supervisor's call is known by this id: the recording policy leaves it alone.
            "ChannelId": f"{SUPERVISION_PREFIX}{request_id}",
            "Application": "ChanSpy",
            "Data": f"{target['channel']},{SPY_OPTIONS[mode]}",
            "Async": "true",
            "Timeout": str(1000 * (me.originate_timeout or server.originate_timeout or 30)),
            "CallerID": f"{' '.join(filter(None, (SPY_LABELS[mode], self.caller)))} <{me.extension}>",
        }
        variables = phone._auto_answer_variables()
        if variables:
            headers["Variable"] = variables
        self._publish_action(headers, request_id)
        self.sudo().spy_requests = " ".join(filter(None, [self.spy_requests, f"{request_id}:{mode}"]))
        self._message_log(
            body=_(
                "%(mode)s by %(user)s on %(channel)s",
                mode=SPY_LABELS[mode],
                user=self.env.user.name,
                channel=target["channel"],
            )
        )
        return _notification(SPY_LABELS[mode], _("%s rings: answer it to listen in", phone.name), "info")

    @api.model
    def _on_originate_replies(self, server, items):
        """Also the answers to Spy / Whisper / Barge: a failure told in words and written on the call; a
        success says nothing more (the supervisor's phone rang and was answered)."""
        claimed = super()._on_originate_replies(server, items)
        asked = {}
        for index, item in enumerate(items):
            if index not in claimed and item.get("@request_type") == "action" and item.get("@id"):
                asked[str(item["@id"])] = index
        if not asked:
            return claimed
        domain = [("server_id", "=", server.id), ("spy_requests", "!=", False)]
        domain += ["|"] * (len(asked) - 1) + [("spy_requests", "like", f"{r}:") for r in asked]
        for call in self.sudo().search(domain):
            for request in (call.spy_requests or "").split():
                request_id, _sep, mode = request.partition(":")
                index = asked.get(request_id)
                if index is None:
                    continue
                item = items[index]
                if item.get("@status") == "ok":
                    claimed[index] = None
                    continue
                error = item.get("@error") or item.get("Message") or _("Asterisk refused it")
                label = SPY_LABELS.get(mode, mode)
                call._message_log(body=_("%(mode)s failed: %(error)s", mode=label, error=error))
                claimed[index] = (_("%s failed", label), error, "danger")
        return claimed

    def _spied_leg(self, supervisor):
        """The channel of the call's user (the one who answered first): a whisper is for them."""
        legs, summary = self._live_legs()
        legs = [leg for leg in legs if leg["channel"]]
        if not legs:
            raise UserError(_("This call is over"))
        people = self.env["asterisk_plus.user"].sudo()._directory(self.server_id)
        answered = (summary["answered_by"] or {}).get("uniqueid")
        legs.sort(key=lambda leg: leg["uniqueid"] != answered)
        for leg in legs:
            user = people.user_of(leg["channel"], leg["exten"])
            if user and user != supervisor.id:
                return leg
        return legs[0]


def _notification(title, message, kind):
    return {
        "type": "ir.actions.client",
        "tag": "display_notification",
        "params": {"title": title, "message": message, "type": kind, "sticky": False},
    }

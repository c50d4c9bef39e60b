"""The developer API's example phone app, "press 1 to be called back": the dialplan sends
`UserEvent(OdooExecute, Model: asterisk_plus.callback_request, Method: request_callback, Args: {...})` and
Odoo leaves a "Call back" activity on the caller's partner (found by the caller's number), else on the call
(docs/odoo-api.md, "The developer API", with its dialplan)."""

import re

from odoo import _, api, models
from odoo.exceptions import UserError

from ..developer import dialplan
from .call import e164

EXTERNAL_DIGITS = 7  # as the bridge: shorter numbers are internal extensions


class CallbackRequest(models.AbstractModel):
    _name = "asterisk_plus.callback_request"
    _description = "Press 1 to be called back: a 'Call back' activity from the dialplan"

    @api.model
    @dialplan
    def request_callback(self, server, args, item):
        """args: `number` (optional, else the event's CallerIDNum), `user` (optional login of who calls back,
        else the partner's salesperson, else the call's user, else the administrator)."""
        headers = {str(k).strip(): v.strip() for k, v in item.items() if isinstance(v, str)}
        number = str(args.get("number") or headers.get("CallerIDNum") or "").strip()
        dialled = re.sub(r"[^0-9+]", "", number)
        if not dialled:
            raise UserError(_("No caller number to call back"))
        external = len(re.sub(r"\D", "", dialled)) >= EXTERNAL_DIGITS
        # Read with the server's country here: the bridge's `@e164` is not on the bus, so not checked.
        called = e164(dialled, server.country_id.code) if external else dialled
        hit = self.env["asterisk_plus.lookup"].sudo()._lookup(called) if external else None
        partner = self.env["res.partner"].sudo().browse(hit[2] if hit and hit[2] else [])
        call = self._find_call(server, headers)
        record = partner or call
        if not record:
            raise UserError(
                _("Nobody to leave the call back with: no partner has %s and no call is known", called)
            )
        user = self._who_calls_back(args, partner, call)
        kind = self.env.ref("asterisk_plus.activity_call_back")
        activities = self.env["mail.activity"].sudo()
        open_one = activities.search_count(
            [
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
                ("user_id", "=", user.id),
                ("activity_type_id", "=", kind.id),
            ]
        )
        if open_one:
            return False  # asked twice: one activity is enough
        return (
            record.sudo()
            .with_context(mail_activity_quick_update=True)
            .activity_schedule(
                "asterisk_plus.activity_call_back",
                summary=_("Call back %s", called),
                note=_("%s asked to be called back from the phone menu.", called),
                user_id=user.id,
            )
            .id
        )

    def _find_call(self, server, headers):
        """The call of the event's channel: by its Linkedid, else by the channel's Uniqueid."""
        calls = self.env["asterisk_plus.call"].sudo()
        if headers.get("Linkedid"):
            call = calls.search(
                [("server_id", "=", server.id), ("linkedid", "=", headers["Linkedid"])], limit=1
            )
            if call:
                return call
        if headers.get("Uniqueid"):
            legs = self.env["asterisk_plus.call.leg"].sudo()
            leg = legs.search(
                [("server_id", "=", server.id), ("uniqueid", "=", headers["Uniqueid"])], limit=1
            )
            return leg.call_id
        return calls

    def _who_calls_back(self, args, partner, call):
        users = self.env["res.users"].sudo()
        if args.get("user"):
            user = users.search([("login", "=", str(args["user"]))], limit=1)
            if not user:
                raise UserError(_("No user with login %s", args["user"]))
            return user
        return partner.user_id or call.user_id or self.env.ref("base.user_admin")

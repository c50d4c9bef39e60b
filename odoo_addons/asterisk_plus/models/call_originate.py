"""Click-to-call: the call record at once, one Originate per phone, and Asterisk's answers to them.

Each Originate gets `ChannelId` = `odoo-<request id>`: that is the phone's channel Uniqueid, so the call's
Linkedid is known before Asterisk says a word, and the events of every phone of a ring-all land on one call
(the other phones' channel ids are legs of it). The gateway's ActionID is `<session>-<request id>`, so an
OriginateResponse is matched to its request too (docs/odoo-api.md)."""

import json
import re

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import bus_client as bus
from .. import call_events as ev
from .call import call_name, e164
from .call_ingest import QUIET
from .call_outcome import ENDED

EXTERNAL_DIGITS = 7  # as the bridge: shorter numbers are internal extensions


class CallOriginate(models.Model):
    _inherit = "asterisk_plus.call"

    @api.model
    def originate(self, number, res_model=False, res_id=False, partner_id=False, phone_id=False):
        """Ring the user's phone(s); once answered, Asterisk dials `number`. Returns a notification action."""
        if not self.env.user.has_group("asterisk_plus.group_user"):
            raise AccessError(_("Only Asterisk users may call from Odoo"))
        dialled = re.sub(r"[^0-9+*#]", "", number or "")  # what Asterisk dials: digits, +, *, #
        if not dialled:
            raise UserError(_("There is no number to call"))
        pbx_user = self.env["asterisk_plus.user"].sudo().search([("user_id", "=", self.env.uid)], limit=1)
        if not pbx_user:
            raise UserError(_("You have no extension: ask an Asterisk admin to add you to the PBX users"))
        server = pbx_user.server_id
        phones = pbx_user._phones(self.env["asterisk_plus.user.channel"].sudo().browse(phone_id or []))
        partner = self.env["res.partner"].browse(partner_id or [])
        origin = self.env[res_model].browse(res_id) if res_model and res_id else None
        if origin is not None:
            _check_read(origin)
            if not partner and res_model == "res.partner":
                partner = origin
            elif not partner and "partner_id" in origin._fields:
                partner = origin.partner_id
        external = len(re.sub(r"\D", "", dialled)) >= EXTERNAL_DIGITS
        called = e164(dialled, server.country_id.code) if external else dialled
        if not partner and external:  # a number typed anywhere: whoever the one lookup says has it
            found = self.env["asterisk_plus.lookup"]._lookup(called)
            partner = self.env["res.partner"].sudo().browse(found[2] if found and found[2] else [])
        name = partner.display_name or (origin.display_name if origin is not None else "") or dialled
        requests = [bus.new_id() for _phone in phones]
        actions = pbx_user._originate_actions(dialled, name, requests, phones)
        fact = ev.originate_fact(
            ev.now_iso(),
            called,
            external,
            [{"req": r, "channel": p.name} for r, p in zip(requests, phones, strict=True)],
            self.env.user.login,
            pbx_user.extension,
        )
        fact.update(uid=self.env.uid, ctx=actions[0]["Context"])
        key = ev.channel_id(requests[0])
        calls = self.sudo().with_context(**QUIET)
        calls.create(
            {
                "server_id": server.id,
                "linkedid": key,
                "name": call_name(pbx_user.extension, called),
                "status": "dialing",
                "direction": fact["dir"],
                "caller": pbx_user.extension,
                "called": called,
                "partner_id": partner.id or False,
                "user_id": self.env.uid,
                "participant_ids": [(6, 0, [self.env.uid])],
                "request_id": requests[0],
                "res_model": origin._name if origin is not None else False,
                "res_id": origin.id if origin is not None else False,
                "started_at": fields.Datetime.now(),
                "facts": json.dumps({"@originate": fact}),
                "leg_ids": [
                    (0, 0, {"server_id": server.id, "uniqueid": ev.channel_id(r), "channel": p.name})
                    for r, p in zip(requests, phones, strict=True)
                ],
            }
        )
        for request_id, headers in zip(requests, actions, strict=True):
            message = bus.fields_for(
                server,
                "action",
                headers,
                id=request_id,
                reply_to="to_odoo",
                uid=self.env.uid,
                user=self.env.user.login,
            )
            bus.publish_after_commit(self.env, server, "actions", message)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": _("Calling"), "message": dialled, "type": "info"},
        }

    def action_call_back(self):
        """Call the other party of this call again."""
        self.ensure_one()
        number = self.caller if self.direction == "in" else self.called
        partner = self.partner_id
        return self.originate(number, partner and "res.partner", partner.id, partner.id)

    @api.model
    def _on_originate_replies(self, server, items):
        """Asterisk's immediate answers to click-to-call Originates: {index: notification or None} for the
        ones that were ours (the others are notified as any reply)."""
        claimed, fresh = {}, []
        for index, item in enumerate(items):
            if item.get("@request_type") == "action" and item.get("@id"):
                fresh.append((index, item))
        if not fresh:
            return claimed
        keys = [ev.channel_id(item["@id"]) for _index, item in fresh]
        legs = (
            self.env["asterisk_plus.call.leg"]
            .sudo()
            .search([("server_id", "=", server.id), ("uniqueid", "in", keys)])
        )
        ours = {leg.uniqueid for leg in legs}
        facts = [
            (f"@reply:{item['@id']}", ev.reply_fact(item))
            for _index, item in fresh
            if ev.channel_id(item["@id"]) in ours
        ]
        if not facts:
            return claimed
        calls = self.sudo().with_context(**QUIET)
        calls._apply_facts(server, facts, notify=False)
        by_key = {leg.uniqueid: leg.call_id for leg in legs}
        for index, item in fresh:
            call = by_key.get(ev.channel_id(item["@id"]))
            if not call:
                continue
            phone = next(leg.channel for leg in legs if leg.uniqueid == ev.channel_id(item["@id"]))
            if item.get("@status") == "ok" and call.status in ENDED:
                claimed[index] = None  # Asterisk's OriginateResponse came first; the user was told then
            elif item.get("@status") == "ok":
                claimed[index] = (_("Calling %s", call.called), _("%s rings: answer it", phone), "success")
            else:
                claimed[index] = (
                    _("Call to %s failed", call.called),
                    call.reason or item.get("@error"),
                    "danger",
                )
        return claimed


def _check_read(record):
    """The user may read the record the call comes from (Odoo 18: check_access; 17: rights, then rules)."""
    if hasattr(record, "check_access"):
        record.check_access("read")
    else:
        record.check_access_rights("read")
        record.check_access_rule("read")

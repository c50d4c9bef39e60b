"""Calls linked to helpdesk tickets: a ticket made from a call (a button on the call form), a click-to-call
from a ticket; each ended call linked to a ticket leaves one line on the ticket's chatter; the incoming call
pop-up offers the caller's open tickets."""

import logging

from markupsafe import Markup
from odoo import _, api, fields, models
from odoo.addons.asterisk_plus.models.call_outcome import ENDED

from .. import helpdesk_rules

_logger = logging.getLogger(__name__)


class Call(models.Model):
    _inherit = "asterisk_plus.call"

    ticket_id = fields.Many2one("helpdesk.ticket", string="Ticket", index=True, ondelete="set null")
    ticket_logged = fields.Boolean(help="The call was written on the ticket's chatter")

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:  # a click-to-call from a ticket
            if (
                vals.get("res_model") == "helpdesk.ticket"
                and vals.get("res_id")
                and not vals.get("ticket_id")
            ):
                vals["ticket_id"] = vals["res_id"]
        calls = super().create(vals_list)
        calls._log_on_tickets()
        return calls

    def write(self, vals):
        result = super().write(vals)
        if ("ticket_id" in vals or "status" in vals) and "ticket_logged" not in vals:
            self._log_on_tickets()
        return result

    def _log_on_tickets(self):
        """One chatter line per ended call on its ticket, once."""
        todo = self.sudo().filtered(lambda c: c.ticket_id and c.status in ENDED and not c.ticket_logged)
        if not todo:
            return
        todo.write({"ticket_logged": True})
        lines = {}
        for call in todo:
            lines.setdefault(call.ticket_id.id, []).append(call._chatter_line())
        tickets = self.env["helpdesk.ticket"].sudo().browse(list(lines))
        try:
            with self.env.cr.savepoint():
                tickets._message_log_batch({ticket: Markup("").join(body) for ticket, body in lines.items()})
        except Exception:  # noqa: BLE001 - the call is stored; a chatter note is not worth losing it
            _logger.exception("could not write calls on the tickets' chatter")

    # -- buttons of the call form -----------------------------------------------------------------------

    def action_create_ticket(self):
        """A ticket for this call, made with the user's own rights (helpdesk users): the call's contact,
        channel Phone, the user as its owner; the call is linked to it. A call with a ticket opens it."""
        self.ensure_one()
        if self.ticket_id:
            return self.action_open_ticket()
        partner = self.partner_id
        who = partner.name or ""
        title = helpdesk_rules.other_party(self.direction, self.caller, self.called, who)
        channel = self.env.ref("helpdesk_mgmt.helpdesk_ticket_channel_phone", raise_if_not_found=False)
        values = {
            "name": _("Call from %s", title) if self.direction == "in" else _("Call to %s", title),
            "description": self.sudo()._chatter_line(),
            "partner_id": partner.id or False,
            "user_id": self.env.uid,
            "channel_id": channel.id if channel else False,
        }
        if partner:
            values.update(partner_name=partner.name, partner_email=partner.email)
        ticket = self.env["helpdesk.ticket"].create(values)
        self.sudo().ticket_id = ticket  # the journal is read-only for users: the link is the module's
        return self.action_open_ticket()

    def action_open_ticket(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "helpdesk.ticket",
            "res_id": self.ticket_id.id,
            "view_mode": "form",
        }

    def action_caller_tickets(self):
        """The tickets of the caller's company (the call's contact and its colleagues)."""
        self.ensure_one()
        commercial = self.partner_id.commercial_partner_id
        return {
            "type": "ir.actions.act_window",
            "name": _("Tickets of %s", commercial.display_name),
            "res_model": "helpdesk.ticket",
            "view_mode": "list,form",
            "domain": [("partner_id", "child_of", commercial.id)],
        }

    # -- the pop-up -------------------------------------------------------------------------------------

    def _caller_card(self, server):
        card = super()._caller_card(server)
        if self.direction != "in":
            return card
        partner = self.sudo().partner_id
        if card.get("model") == "res.partner":
            partner = self.env["res.partner"].sudo().browse(card["id"])
        if not partner:
            return card
        links = [
            {
                "model": "helpdesk.ticket",
                "id": ticket.id,
                "label": _("Ticket: %s", ticket.display_name),
                "icon": "fa-life-ring",
            }
            for ticket in self._open_tickets(partner)
        ]
        return dict(card, links=[*card.get("links", []), *links]) if links else card

    def _open_tickets(self, partner):
        """The open tickets (sudo) of the partner's company the pop-up offers (helpdesk_rules.offered)."""
        tickets = (
            self.env["helpdesk.ticket"]
            .sudo()
            .search([("partner_id", "child_of", partner.commercial_partner_id.id)], order="id desc", limit=50)
        )
        rows = [
            {"id": t.id, "closed": t.stage_id.closed, "last": str(t.last_stage_update or "")} for t in tickets
        ]
        return tickets.browse([row["id"] for row in helpdesk_rules.offered(rows)])

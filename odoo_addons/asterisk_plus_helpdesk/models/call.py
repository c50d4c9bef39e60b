"""Calls linked to helpdesk tickets: a ticket made from a call (a button on the call form), a click-to-call
from a ticket; each ended call linked to a ticket leaves one line on the ticket's chatter (asterisk_plus's
call_record_link.py does both); the incoming call pop-up offers the caller's open tickets."""

from odoo import _, fields, models

from .. import helpdesk_rules


class Call(models.Model):
    _inherit = "asterisk_plus.call"

    ticket_id = fields.Many2one("helpdesk.ticket", string="Ticket", index=True, ondelete="set null")
    ticket_logged = fields.Boolean(help="The call was written on the ticket's chatter")

    def _record_links(self):
        return [*super()._record_links(), ("helpdesk.ticket", "ticket_id", "ticket_logged")]

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
        partner = self._card_partner(card)
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

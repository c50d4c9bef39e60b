"""Calls linked to leads: the lead the caller's number stands for (lookup.py), or the lead a click-to-call
came from; each ended call linked to a lead leaves one line on the lead's chatter (these two through
asterisk_plus's call_record_link.py); the incoming call pop-up offers the caller's open opportunity; a missed
call from an unknown number may make a lead."""

from odoo import _, api, fields, models
from odoo.tools import str2bool

from .. import crm_rules
from .lookup import OPEN
from .res_config_settings import MISSED_PARAM, TEAM_PARAM


class Call(models.Model):
    _inherit = "asterisk_plus.call"

    lead_id = fields.Many2one("crm.lead", string="Lead / Opportunity", index=True, ondelete="set null")
    lead_logged = fields.Boolean(help="The call was written on the lead's chatter")

    def _record_links(self):
        return [*super()._record_links(), ("crm.lead", "lead_id", "lead_logged")]

    def _values(self, server, b, people, partners):
        """The journal's values, and the lead of the other party's number while the call has none."""
        values = super()._values(server, b, people, partners)
        s = b.summary
        if (b.record and b.record.lead_id) or s["direction"] not in ("in", "out"):
            return values
        number = s["caller"] if s["direction"] == "in" else s["called"]
        if number and number.startswith("+"):
            lead = self.env["asterisk_plus.lookup"]._lead_for_number(number)
            if lead:
                values["lead_id"] = lead.id
        return values

    def action_open_lead(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "view_mode": "form",
        }

    # -- the pop-up -------------------------------------------------------------------------------------

    def _caller_card(self, server):
        card = super()._caller_card(server)
        if self.direction != "in":
            return card
        opportunity = self._caller_opportunity(card)
        if not opportunity or (card.get("model") == "crm.lead" and card.get("id") == opportunity.id):
            return card  # none, or the card's own record (its Open button opens it)
        label = (
            _("Opportunity: %s", opportunity.name)
            if opportunity.type == "opportunity"
            else _("Lead: %s", opportunity.name)
        )
        link = {"model": "crm.lead", "id": opportunity.id, "label": label, "icon": "fa-star"}
        return dict(card, links=[*card.get("links", []), link])

    def _caller_opportunity(self, card):
        """The caller's open lead (sudo): the call's, the number's, else the newest open opportunity of the
        caller's company (the partner on the card, else the call's)."""
        self.ensure_one()
        leads = self.env["crm.lead"].sudo()
        lead = self.sudo().lead_id or self.env["asterisk_plus.lookup"]._lead_for_number(self.caller)
        if lead and lead.active and not lead.stage_id.is_won:
            return lead
        partner = self._card_partner(card)
        if not partner:
            return leads
        domain = [("partner_id", "child_of", partner.commercial_partner_id.id), ("type", "=", "opportunity")]
        return leads.search(domain + OPEN, order="id desc", limit=1)

    # -- leads from missed calls ------------------------------------------------------------------------

    def _on_missed_calls(self, server):
        """A missed call from a number no contact and no open lead has makes a lead (when the setting says
        so), one per number; the calls are linked to it."""
        super()._on_missed_calls(server)
        params = self.env["ir.config_parameter"].sudo()
        if not str2bool(params.get_param(MISSED_PARAM) or "False"):
            return
        calls = self.sudo()
        numbers = crm_rules.missed_numbers(
            [
                {
                    "id": c.id,
                    "direction": c.direction,
                    "caller": c.caller,
                    "partner_id": c.partner_id.id,
                    "lead_id": c.lead_id.id,
                }
                for c in calls
            ]
        )
        if not numbers:
            return
        leads = self.env["asterisk_plus.lookup"]._leads_by_number(list(numbers))
        team = self.env["crm.team"].sudo().browse(int(params.get_param(TEAM_PARAM) or 0)).exists()
        new = [number for number in numbers if number not in leads]
        created = (
            self.env["crm.lead"]
            .sudo()
            .with_context(mail_create_nosubscribe=True)
            .create([self._missed_call_lead_values(number, team) for number in new])
        )
        leads.update(zip(new, created, strict=True))
        for number, call_ids in numbers.items():
            calls.browse(call_ids).write({"lead_id": leads[number].id})

    @api.model
    def _missed_call_lead_values(self, number, team):
        use_leads = self.env.ref("crm.group_use_lead") in self.env.ref("base.group_user").implied_ids
        medium = self.env.ref("utm.utm_medium_phone", raise_if_not_found=False)
        values = {
            "name": _("Missed call from %s", number),
            "phone": number,
            "type": "lead" if use_leads else "opportunity",
            "team_id": team.id or False,
            "user_id": False,  # not the system account: the team (or whoever assigns leads) takes it
            "medium_id": medium.id if medium else False,
        }
        if team.company_id:
            values["company_id"] = team.company_id.id
        return values

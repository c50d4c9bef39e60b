"""CRM settings of Asterisk: where leads stand in the number lookup, leads from missed calls."""

from odoo import fields, models

from .. import crm_rules
from .lookup import ORDER_PARAM

MISSED_PARAM = "asterisk_plus_crm.missed_call_lead"
TEAM_PARAM = "asterisk_plus_crm.missed_call_team_id"


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    asterisk_crm_lookup_order = fields.Selection(
        crm_rules.ORDERS,
        string="Caller lookup",
        default=crm_rules.DEFAULT_ORDER,
        config_parameter=ORDER_PARAM,
        help="Which record an incoming call's number stands for when a contact and an open lead have it",
    )
    asterisk_crm_missed_call_lead = fields.Boolean(
        string="Lead from a missed call",
        config_parameter=MISSED_PARAM,
        help="A missed call from a number no contact and no open lead has makes a lead",
    )
    asterisk_crm_missed_call_team_id = fields.Many2one(
        "crm.team",
        string="Sales team of those leads",
        config_parameter=TEAM_PARAM,
    )

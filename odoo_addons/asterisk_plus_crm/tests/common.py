"""Helpers of the module's tests: asterisk_plus's call tests' base, leads, the settings, other numbers."""

import copy

from odoo.addons.asterisk_plus.tests.agent_case import AgentCase

NUMBER = "+32470123456"  # the caller of asterisk_plus's flows
LOCAL = "0470123456"


def renumber(items, number, local, tag):
    """A flow's items as if another number called: its caller's number, Linkedids, Uniqueids and event ids
    changed (`tag`: a digit), so it is another call."""

    def swap(value):
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, str):
            value = value.replace(NUMBER, number).replace(LOCAL, local)
            if value[:10].isdigit() and "." in value:  # a Uniqueid or Linkedid: 1796104215.7
                value = value[:9] + tag + value[10:]
        return value

    out = []
    for item in copy.deepcopy(items):
        item = swap(item)
        item["@id"] = f"{tag}{item['@id']}"
        out.append(item)
    return out


class CrmCallCase(AgentCase):
    def setUp(self):
        super().setUp()
        # A database in use may hold leads with the flows' numbers: left out for the test (rolled back).
        self.env.flush_all()
        self.env.cr.execute("UPDATE crm_lead SET phone_e164 = NULL, mobile_e164 = NULL")
        self.env["crm.lead"].invalidate_model(["phone_e164", "mobile_e164"])
        self.env.registry.clear_cache()
        self.lookup = self.env["asterisk_plus.lookup"]
        self.order("partners_first")

    def order(self, order):
        self.env["ir.config_parameter"].sudo().set_param("asterisk_plus_crm.lookup_order", order)

    def lead(self, name, **values):
        values = dict({"name": name, "country_id": self.country.id, "type": "opportunity"}, **values)
        return self.env["crm.lead"].create(values)

    def partner(self, name, **values):
        return self.env["res.partner"].create(dict({"name": name, "country_id": self.country.id}, **values))

    def agent(self, login, extension, *phones, sales="sales_team.group_sale_salesman_all_leads"):
        return super().agent(login, extension, *phones, groups=[sales])

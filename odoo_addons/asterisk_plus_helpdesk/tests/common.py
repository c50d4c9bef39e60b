"""Helpers of the module's tests: asterisk_plus's call tests' base, an agent who is a helpdesk user too."""

from odoo.addons.asterisk_plus.tests.agent_case import AgentCase


class HelpdeskCallCase(AgentCase):
    def setUp(self):
        super().setUp()
        self.env.registry.clear_cache()
        self.known_caller(email="jane@example.com")

    def agent(self, login, extension, *phones, helpdesk=True):
        groups = ["helpdesk_mgmt.group_helpdesk_user"] if helpdesk else []
        return super().agent(login, extension, *phones, groups=groups)

    def ticket(self, name, partner, closed=False):
        values = {"name": name, "description": "<p>x</p>", "partner_id": partner.id}
        if closed:
            values["stage_id"] = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done").id
        # Untracked: a ticket made closed would mail its contact (helpdesk_mgmt's stage template).
        return self.env["helpdesk.ticket"].with_context(tracking_disable=True).create(values)

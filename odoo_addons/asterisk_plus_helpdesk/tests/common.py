"""Helpers of the module's tests: asterisk_plus's call tests' base, an agent who is a helpdesk user too."""

from odoo.addons.asterisk_plus.tests.test_calls import CallCase


class HelpdeskCallCase(CallCase):
    def setUp(self):
        super().setUp()
        self.env.registry.clear_cache()
        self.acme = self.env["res.partner"].create({"name": "Acme", "is_company": True})
        self.jane = self.env["res.partner"].create(
            {
                "name": "Jane Doe",
                "parent_id": self.acme.id,
                "mobile": "0470 12 34 56",
                "email": "jane@example.com",
                "country_id": self.country.id,
            }
        )

    def agent(self, login, extension, *phones, helpdesk=True):
        user = self.user(login)
        if helpdesk:
            user.groups_id = [(4, self.env.ref("helpdesk_mgmt.group_helpdesk_user").id)]
        self.env["asterisk_plus.user"].create(
            {
                "user_id": user.id,
                "extension": extension,
                "server_id": self.server.id,
                "channel_ids": [(0, 0, {"name": phone}) for phone in phones],
            }
        )
        return user

    def ticket(self, name, partner, closed=False):
        values = {"name": name, "description": "<p>x</p>", "partner_id": partner.id}
        if closed:
            values["stage_id"] = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done").id
        # Untracked: a ticket made closed would mail its contact (helpdesk_mgmt's stage template).
        return self.env["helpdesk.ticket"].with_context(tracking_disable=True).create(values)

"""The base of the pop-up tests (this module's and the glue modules'): agents with phones, a known caller
(Jane Doe of Acme, the real flows' number), the pop-up of a ringing queue call."""

from . import flows
from .common import last_bus_id, notifications, pbx_user
from .test_calls import CallCase


class AgentCase(CallCase):
    def agent(self, login, extension, *phones, server=None, groups=()):
        """A user of these groups too, an Asterisk user at `extension` with these phones."""
        user = self.user(login)
        if groups:
            user.groups_id = [(4, self.env.ref(group).id) for group in groups]
        return pbx_user(self.env, user, server or self.server, extension, phones)

    def known_caller(self, **values):
        """Acme and its contact Jane Doe, whose mobile is the flows' caller."""
        self.acme = self.env["res.partner"].create({"name": "Acme", "is_company": True})
        jane = {"name": "Jane Doe", "parent_id": self.acme.id, "mobile": "0470 12 34 56"}
        self.jane = self.env["res.partner"].create(dict(jane, country_id=self.country.id, **values))

    def ringing_popup(self, agent):
        since = last_bus_id(self.env)
        self.deliver(flows.queue_answered()[2][:6])  # up to AgentCalled: the agent's phone rings
        [popup] = notifications(self.env, agent, since, "asterisk_plus.call")
        self.assertEqual(popup["state"], "ringing")
        return popup

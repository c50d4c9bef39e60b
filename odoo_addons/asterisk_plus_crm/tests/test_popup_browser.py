"""The pop-up in a real browser: the payload a real queue call makes in Odoo (the caller's contact and the
link to their open opportunity), shown by asterisk_plus's pop-up; its link opens the opportunity."""

import json

from odoo import release
from odoo.addons.asterisk_plus.tests import flows
from odoo.addons.asterisk_plus.tests.common import forget_existing_numbers, last_bus_id, notifications
from odoo.tests import HttpCase, tagged

WEB = "/odoo" if release.version_info[0] >= 18 else "/web"

# Shows the payload as the bus would hand it to the pop-up service, then clicks the opportunity's link.
SCRIPT = """
(async () => {
    const payload = %(payload)s;
    const waitFor = async (find, what) => {
        for (let i = 0; i < 150; i++) {
            const found = find();
            if (found) { return found; }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error("never found: " + what);
    };
    const popups = odoo.__WOWL_DEBUG__.root.env.services.asterisk_plus_call_popup;
    popups.onCall(payload);
    const card = await waitFor(() => document.querySelector(".o_asterisk_call_popup"), "the pop-up");
    const name = card.querySelector(".o_asterisk_call_name").textContent.trim();
    if (name !== "Jane Doe") { throw new Error("the pop-up names " + name); }
    const link = await waitFor(
        () => card.querySelector('.o_asterisk_call_link[data-model="crm.lead"]'), "the opportunity's link"
    );
    if (link.textContent.trim() !== "Opportunity: Acme renewal") {
        throw new Error("the link says " + link.textContent);
    }
    link.click();
    await waitFor(() => {
        const crumb = document.querySelector(".o_form_view .o_last_breadcrumb_item, .o_last_breadcrumb_item");
        return crumb && crumb.textContent.includes("Acme renewal") && document.querySelector(".o_form_view");
    }, "the opportunity's form");
    console.log("test successful");
})().catch((error) => console.error(error.message));
"""


@tagged("post_install", "-at_install")
class TestPopupInTheBrowser(HttpCase):
    def test_the_pop_up_links_the_callers_opportunity_and_the_link_opens_it(self):
        forget_existing_numbers(self.env)
        admin = self.env.ref("base.user_admin")
        admin.groups_id = [(4, self.env.ref("asterisk_plus.group_user").id)]
        server = self.env.ref("asterisk_plus.server_asterisk1")
        self.env["asterisk_plus.user"].create(
            {
                "user_id": admin.id,
                "extension": "100",
                "server_id": server.id,
                "channel_ids": [(0, 0, {"name": "Local/100@demo"})],
            }
        )
        belgium = self.env.ref("base.be")
        acme = self.env["res.partner"].create({"name": "Acme", "is_company": True})
        self.env["res.partner"].create(
            {"name": "Jane Doe", "parent_id": acme.id, "mobile": "0470 12 34 56", "country_id": belgium.id}
        )
        deal = self.env["crm.lead"].create(
            {"name": "Acme renewal", "type": "opportunity", "partner_id": acme.id}
        )
        since = last_bus_id(self.env)
        system = self.env.ref("asterisk_plus.user_asterisk1")
        self.env(user=system)["asterisk_plus.call"].on_ami_events("asterisk1", flows.queue_answered()[2][:6])
        [payload] = notifications(self.env, admin, since, "asterisk_plus.call")
        self.assertEqual(payload["links"][0]["id"], deal.id)
        payload["sticky"] = True  # stays while the browser looks at it
        # The web client mounted (start.js sets it; a loaded machine runs the script before it otherwise).
        ready = "odoo.isReady === true"
        self.browser_js(
            WEB, SCRIPT % {"payload": json.dumps(payload)}, ready=ready, login="admin", timeout=120
        )

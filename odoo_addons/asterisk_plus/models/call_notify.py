"""What the rung users hear of a call (../call_popup.py says who and when): the incoming call pop-up, a
missed call's notice and its 'Call back' activity.

The users come from the server's own PBX users (the batch's directory), so the system account tells only the
server's PBX users, as its other notifications."""

from odoo import _, models
from odoo.exceptions import AccessError

from ..rights import check_access

POPUP = "asterisk_plus.call"  # the bus notification type the web client's pop-up listens to


class CallNotify(models.Model):
    _inherit = "asterisk_plus.call"

    def _tell_rung_users(self, server, popups):
        """popups: [(call id, (user id, ...), just missed, pop-up state)]."""
        users = self.env["res.users"].sudo().browse(sorted({u for _c, tell, _m, _s in popups for u in tell}))
        users = users.exists()
        bus = self.env["bus.bus"].sudo()
        for call_id, tell, missed, state in popups:
            call = self.sudo().browse(call_id)
            card = call._caller_card(server)
            for user in users.filtered(lambda u, tell=tell: u.id in tell):
                if user.asterisk_popup:
                    bus._sendone(user.partner_id, POPUP, call._popup_payload(server, card, user, state))
                if missed and not user.asterisk_popup:
                    bus._sendone(
                        user.partner_id,
                        "simple_notification",
                        {
                            "type": "warning",
                            "title": _("Missed call"),
                            "message": card.get("label") or call.caller,
                            "sticky": False,
                        },
                    )
                if missed and user.asterisk_missed_activity:
                    call._call_back_activity(user, card)

    def _caller_card(self, server):
        """Who is calling, as the pop-up shows it: the record behind the number (the one lookup), else the
        call's partner; a colleague's extension shows the colleague."""
        self.ensure_one()
        lookup = self.env["asterisk_plus.lookup"]
        card = {}
        if self.direction == "in":
            card = lookup._lookup_card(lookup._lookup(self.caller))
        elif self.caller:
            colleague = (
                self.env["asterisk_plus.user"]
                .sudo()
                .search([("server_id", "=", server.id), ("extension", "=", self.caller)], limit=1)
            )
            if colleague:
                card = lookup._lookup_card(("res.partner", colleague.user_id.partner_id.id))
        if not card and self.partner_id:
            card = lookup._lookup_card(("res.partner", self.partner_id.id))
        if card:
            card["label"] = f"{card['name']} ({self.caller})" if self.caller else card["name"]
        return card

    def _card_partner(self, card):
        """The caller's contact (sudo), for other modules' links on the card: the card's own partner, else the
        call's."""
        if card.get("model") == "res.partner":
            return self.env["res.partner"].sudo().browse(card["id"])
        return self.sudo().partner_id

    def _popup_payload(self, server, card, user, state):
        self.ensure_one()
        answered_by = self.answered_user_id.name or self.answered_member or self.answered_exten or ""
        return {
            "call_id": self.id,
            "server": server.name,
            "state": state,
            "status": self.status,
            "direction": self.direction,
            "number": self.caller or "",
            "name": card.get("name", ""),
            "company": card.get("company", ""),
            "avatar": card.get("avatar", ""),
            "res_model": card.get("model", ""),
            "res_id": card.get("id", 0),
            "queue": self.queue or "",
            "answered_by": answered_by,
            "answered_by_me": self.answered_user_id == user,
            "reason": self.reason or "",
            "sticky": user.asterisk_popup_sticky,
            "open_record": user.asterisk_popup_open,
            # More records the pop-up offers (other modules' _caller_card: an open opportunity, a ticket):
            # [{"model", "id", "label", "icon"}].
            "links": self._links_for(user, card.get("links", [])),
        }

    def _links_for(self, user, links):
        """The links `user` may open: the card is made once for every user the call rings, and a label names
        its record (a salesperson limited to their own leads is not shown another's opportunity)."""
        readable = []
        for link in links:
            record = self.env[link["model"]].with_user(user).browse(link["id"]).exists()
            try:
                check_access(record, "read")
            except AccessError:
                continue
            if record:
                readable.append(link)
        return readable

    def _call_back_activity(self, user, card):
        """One open 'Call back' activity per user and caller: on the partner, else on the call."""
        self.ensure_one()
        kind = self.env.ref("asterisk_plus.activity_call_back", raise_if_not_found=False)
        if not kind:
            return
        record = self.partner_id or self
        activities = self.env["mail.activity"].sudo()
        domain = [
            ("res_model", "=", record._name),
            ("res_id", "=", record.id),
            ("user_id", "=", user.id),
            ("activity_type_id", "=", kind.id),
        ]
        if activities.search_count(domain):
            return
        who = card.get("label") or self.caller or _("an unknown number")
        note = _("Missed call from %s", who)
        if self.queue:
            note += " " + _("(queue %s)", self.queue)
        # No e-mail about it: the activity shows in the user's activities, the pop-up told them already.
        record.sudo().with_context(mail_activity_quick_update=True).activity_schedule(
            "asterisk_plus.activity_call_back",
            summary=_("Call back %s", self.caller or ""),
            note=note,
            user_id=user.id,
        )

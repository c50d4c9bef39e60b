"""The server's settings for calls (click-to-call defaults, the partner's chatter, retention), the timezone
warning, and click-to-call answers among the bridge's replies."""

from datetime import timedelta

from odoo import api, fields, models


class ServerCalls(models.Model):
    _inherit = "asterisk_plus.server"

    originate_context = fields.Char(
        string="Click-to-call context",
        default="from-internal",
        required=True,
        help="Dialplan context the called number is dialled in, unless the PBX user has another",
    )
    originate_timeout = fields.Integer(
        string="Click-to-call ring timeout", default=30, help="Seconds the user's phone rings"
    )
    log_calls_on_partner = fields.Boolean(
        string="Calls on the partner's chatter", help="Write every ended call on its partner's chatter"
    )
    keep_event_ids_days = fields.Integer(
        string="Keep processed event ids (days)",
        default=7,
        help="How long a redelivered event is still recognised. 0: for ever.",
    )
    keep_calls_days = fields.Integer(string="Keep calls (days)", default=0, help="0: for ever")
    tz_warning = fields.Char(string="Timezone warning", readonly=True)

    @api.model
    def bridge_on_replies(self, server_name, items):
        """Answers to click-to-call Originates mark their call and tell the user in words; others as ever."""
        server = self._for_bridge(server_name)
        claimed = self.env["asterisk_plus.call"].sudo()._on_originate_replies(server, items)
        rest = [item for index, item in enumerate(items) if index not in claimed]
        others = iter(super().bridge_on_replies(server_name, rest) if rest else [])
        results, notes = [], []
        for index, item in enumerate(items):
            if index not in claimed:
                results.append(next(others))
                continue
            results.append({"status": "ok"})
            if claimed[index] is None:
                continue
            title, message, level = claimed[index]
            user = self.env["res.users"].sudo().browse(int(item.get("@uid") or 0)).exists()
            if user and server._may_be_told(user):
                payload = {"type": level, "title": title, "message": message, "sticky": level == "danger"}
                notes.append((user.partner_id, "simple_notification", payload))
        for partner, kind, payload in notes:
            self.env["bus.bus"].sudo()._sendone(partner, kind, payload)
        return results

    @api.model
    def _cron_call_retention(self):
        """Forget processed event ids, and calls when a server says so, older than their settings."""
        servers = self.sudo().search([])
        days = [s.keep_event_ids_days for s in servers]
        if days and min(days) > 0:  # the longest wish wins; 0 is for ever
            self.env.cr.execute(
                "DELETE FROM asterisk_plus_processed_event WHERE create_date < %s",
                [fields.Datetime.now() - timedelta(days=max(days))],
            )
        for server in servers.filtered(lambda s: s.keep_calls_days > 0):
            limit = fields.Datetime.now() - timedelta(days=server.keep_calls_days)
            calls = self.env["asterisk_plus.call"].sudo()
            calls.search([("server_id", "=", server.id), ("started_at", "<", limit)]).unlink()

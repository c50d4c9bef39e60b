from datetime import datetime

from odoo import api, fields, models

try:
    import phonenumbers
except ImportError:
    phonenumbers = None


def e164(number, country):
    if not number or phonenumbers is None:
        return number or ""
    try:
        parsed = phonenumbers.parse(number, country or None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def parse_at(value):
    if not value:
        return False
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


class ProcessedEvent(models.Model):
    """Event ids already applied: a redelivered event changes nothing."""

    _name = "asterisk_plus.processed_event"
    _description = "AMI event already processed"

    name = fields.Char(required=True, index=True)
    _sql_constraints = [("name_unique", "unique(name)", "An event is processed once.")]


class Call(models.Model):
    _name = "asterisk_plus.call"
    _description = "Call"
    _order = "started_at desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    server_id = fields.Many2one("asterisk_plus.server", required=True, ondelete="cascade")
    linkedid = fields.Char(required=True, index=True)
    direction = fields.Selection([("in", "Incoming"), ("out", "Outgoing"), ("internal", "Internal")])
    caller = fields.Char(help="E.164 when external")
    called = fields.Char(help="E.164 when external")
    partner_id = fields.Many2one("res.partner", index=True)
    user_id = fields.Many2one("res.users", string="PBX user")
    status = fields.Selection(
        [
            ("ringing", "Ringing"),
            ("answered", "Answered"),
            ("noanswer", "No answer"),
            ("busy", "Busy"),
            ("failed", "Failed"),
            ("ended", "Ended"),
        ],
        default="ringing",
    )
    started_at = fields.Datetime()
    answered_at = fields.Datetime()
    ended_at = fields.Datetime()
    duration = fields.Integer(help="Seconds")

    _sql_constraints = [("linkedid_unique", "unique(server_id, linkedid)", "One call per Linkedid.")]

    @api.depends("caller", "called")
    def _compute_name(self):
        for rec in self:
            rec.name = f"{rec.caller or '?'} -> {rec.called or '?'}"

    @api.model
    def on_ami_events(self, server_name, items):
        server = self.env["asterisk_plus.server"]._for_bridge(server_name)
        calls = self.sudo()
        processed = self.env["asterisk_plus.processed_event"].sudo()
        ids = [i.get("@id") for i in items if i.get("@id")]
        done = set(processed.search([("name", "in", ids)]).mapped("name"))
        results = []
        for item in items:
            event_id = item.get("@id")
            if event_id and event_id in done:
                results.append({"status": "duplicate"})
                continue
            try:
                with self.env.cr.savepoint():
                    calls._apply(server, item)
                    if event_id:
                        processed.create({"name": event_id})
                        done.add(event_id)
                results.append({"status": "ok"})
            except Exception as exc:  # one bad event must not hold the others back
                results.append({"status": "error", "error": f"{type(exc).__name__}: {exc}"})
        return results

    def _apply(self, server, item):
        linkedid = item.get("Linkedid") or item.get("DestLinkedid") or item.get("UniqueID")
        if not linkedid:
            return
        call = self.search([("server_id", "=", server.id), ("linkedid", "=", linkedid)], limit=1)
        event = item.get("Event")
        numbers = item.get("@e164") or {}
        at = parse_at(item.get("@at"))
        if not call:
            caller = numbers.get("CallerIDNum") or item.get("CallerIDNum") or ""
            called = numbers.get("Exten") or item.get("Exten") or ""
            external_in = "CallerIDNum" in numbers
            external_out = "Exten" in numbers
            direction = "in" if external_in else "out" if external_out else "internal"
            call = self.create(
                {
                    "server_id": server.id,
                    "linkedid": linkedid,
                    "caller": caller,
                    "called": called,
                    "direction": direction,
                    "started_at": at,
                    "partner_id": self._partner(caller if external_in else called).id,
                    "user_id": self._user(item, direction).id,
                }
            )
        values = {}
        if event == "DialBegin" and call.direction == "in":
            self._notify_ringing(call, item)
        if event == "DialEnd":
            status = item.get("DialStatus")
            values["status"] = {"ANSWER": "answered", "BUSY": "busy", "NOANSWER": "noanswer"}.get(
                status, "failed"
            )
            if status == "ANSWER":
                values["answered_at"] = at
        elif event == "Hangup" and call.status == "ringing":
            values["status"] = "noanswer"
        if event == "Hangup":
            values["ended_at"] = at
        if event == "Cdr":
            utc = item.get("@utc") or {}
            for header, name in (
                ("StartTime", "started_at"),
                ("AnswerTime", "answered_at"),
                ("EndTime", "ended_at"),
            ):
                if utc.get(header):
                    values[name] = utc[header]
            values["duration"] = int(item.get("BillableSeconds") or 0)
        if values:
            call.write(values)

    def _notify_ringing(self, call, item):
        """The user whose extension rings sees who is calling."""
        exten = item.get("DialString") or item.get("DestCallerIDNum") or ""
        pbx_user = (
            self.env["asterisk_plus.user"]
            .sudo()
            .search([("server_id", "=", call.server_id.id), ("extension", "=", exten.split("@")[0])], limit=1)
        )
        if not pbx_user:
            return
        who = call.partner_id.display_name or call.caller
        self.env["bus.bus"]._sendone(
            pbx_user.user_id.partner_id,
            "simple_notification",
            {"type": "info", "title": "Incoming call", "message": f"{who} ({call.caller})", "sticky": False},
        )
        if not call.user_id:
            call.user_id = pbx_user.user_id

    def _partner(self, number):
        if not number or not number.startswith("+"):
            return self.env["res.partner"]
        return (
            self.env["res.partner"]
            .sudo()
            .search(["|", ("phone_e164", "=", number), ("mobile_e164", "=", number)], limit=1)
        )

    def _user(self, item, direction):
        exten = item.get("CallerIDNum") if direction != "in" else item.get("Exten")
        pbx_user = self.env["asterisk_plus.user"].sudo().search([("extension", "=", exten)], limit=1)
        return pbx_user.user_id


class PbxUser(models.Model):
    _name = "asterisk_plus.user"
    _description = "PBX user: an Odoo user and an extension"

    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    extension = fields.Char(required=True)
    channel = fields.Char(required=True, help="e.g. PJSIP/101")
    server_id = fields.Many2one("asterisk_plus.server", required=True)

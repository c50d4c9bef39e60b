import json
import logging
import secrets
import time
from datetime import timedelta

import pytz
from odoo import _, api, fields, models

from .. import bus_client as bus
from ..rights import require_admin
from .call import parse_at_or_false

_logger = logging.getLogger(__name__)

BUTTON_TIMEOUT = 10
# How long the answer to a Download is awaited: the agent may be down when the button is pressed.
CONF_REQUEST_TTL = 3600


class AsteriskServer(models.Model):
    _name = "asterisk_plus.server"
    _description = "Asterisk Server"

    name = fields.Char(
        required=True,
        default="asterisk1",
        help="The server's bus name: the same as the agent's AGENT_SERVER.",
    )
    country_id = fields.Many2one(
        "res.country",
        string="Country",
        default=lambda self: self.env.company.country_id,
        help="Caller IDs in local format are read as numbers of this country.",
    )
    tz = fields.Selection(
        "_tz_selection",
        string="Timezone",
        default="UTC",
        help="Times Asterisk reports (CDR) are in this timezone.",
    )
    console_url = fields.Char(
        string="Console URL",
        default=lambda self: self._default_console_url(),
        help="The agent's web console, port 48001 by default. Put it behind an SSL proxy.",
    )
    update_direction = fields.Selection(
        [("odoo_to_asterisk", "Odoo -> Asterisk"), ("asterisk_to_odoo", "Asterisk -> Odoo")],
        default="odoo_to_asterisk",
        required=True,
    )
    initial_update_done = fields.Boolean(
        help="Set by the agent once all of Asterisk's .conf files were sent to Odoo on the first connection."
    )
    sync_at_start = fields.Boolean(default=True, help="Synchronise the .conf files when Asterisk starts.")
    redis_url = fields.Char(
        string="Bus (Redis) URL",
        default="redis://localhost:6379/0",
        required=True,
        groups="asterisk_plus.group_admin",  # may hold Redis's password, and with it every AMI action
    )
    bus_prefix = fields.Char(default="pbx", required=True)
    ami_connected = fields.Boolean(compute="_compute_status", string="AMI connected")
    asterisk_version = fields.Char(compute="_compute_status")
    last_event_at = fields.Char(compute="_compute_status", string="Last event (as the gateway wrote it)")
    last_event = fields.Datetime(compute="_compute_status", string="Last event")
    agent_status = fields.Char(compute="_compute_status")
    console_command_count = fields.Integer(
        compute="_compute_console_command_count", string="Console history", groups="asterisk_plus.group_admin"
    )
    # The last Download's request id: the agent's files are taken as its answer (conf.bridge_on_files).
    conf_request_id = fields.Char(copy=False, groups="base.group_system")
    conf_request_until = fields.Datetime(copy=False, groups="base.group_system")

    _sql_constraints = [("name_unique", "unique(name)", "One server record per bus name.")]

    @api.model
    def _tz_selection(self):
        return [(tz, tz) for tz in pytz.common_timezones]

    def _default_console_url(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "http://localhost")
        host = base.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        return f"http://{host}:48001"

    def _compute_status(self):
        for rec in self:
            rec.ami_connected, rec.asterisk_version, rec.last_event_at, rec.last_event = False, "", "", False
            try:
                status = bus.client(rec).hgetall(bus.key(rec, "status:ami_gateway"))
            except Exception as exc:  # the form must open even when the bus is away
                rec.agent_status = _("Bus unreachable: %s", exc)
                continue
            if not status:
                rec.agent_status = _("The AMI gateway has not reported yet")
                continue
            age = time.time() - float(status.get("updated_ts") or 0)
            rec.ami_connected = status.get("ami_connected") == "1" and age < 30
            rec.asterisk_version = status.get("asterisk_version", "")
            rec.last_event_at = status.get("last_event_at", "")
            rec.last_event = parse_at_or_false(rec.last_event_at)
            rec.agent_status = _("Running") if age < 30 else _("No news from the gateway for %s s", int(age))

    def _compute_console_command_count(self):
        counts = dict(
            self.env["asterisk_plus.console_command"]._read_group(
                [("server_id", "in", self.ids)], ["server_id"], ["__count"]
            )
        )
        for rec in self:
            rec.console_command_count = counts.get(rec, 0)

    # -- buttons ------------------------------------------------------------------------------------------

    def _ask(self, stream, type_, headers=None, title=""):
        """Publish a request and wait for its answer on a stream of its own; a notification either way."""
        self.ensure_one()
        request_id = bus.new_id()
        reply_to = f"replies:odoo.{request_id}"
        fields_ = bus.fields_for(
            self,
            type_,
            headers,
            id=request_id,
            reply_to=reply_to,
            uid=self.env.uid,
            user=self.env.user.login,
            deadline=None,
        )
        started = time.monotonic()
        bus.publish_now(self, stream, fields_)
        reply = bus.wait_reply(self, reply_to, BUTTON_TIMEOUT)
        if reply is None:
            who = "odoo_bridge" if stream.startswith("commands:odoo_bridge") else "ami_gateway"
            return self._notify(
                title,
                _("The agent did not answer within %s s (is %s running?)", BUTTON_TIMEOUT, who),
                "danger",
            )
        ms = int((time.monotonic() - started) * 1000)
        if reply.get("@status") != "ok":
            return self._notify(title, reply.get("@error") or _("failed"), "danger")
        text = reply.get("Message") or reply.get("Ping") or reply.get("Output") or _("OK")
        return self._notify(title, f"{text} ({ms} ms)", "success")

    def _notify(self, title, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": title, "message": message, "type": kind, "sticky": kind == "danger"},
        }

    def action_test(self):
        require_admin(self.env, _("test the agent"))
        return self._ask("commands:odoo_bridge", "test", title=_("Test"))

    def action_ping(self):
        require_admin(self.env, _("ping Asterisk"))
        return self._ask("actions", "action", {"Action": "Ping"}, title=_("Asterisk ping"))

    def action_reload(self):
        require_admin(self.env, _("reload Asterisk"))
        return self._ask("actions", "action", {"Action": "Reload"}, title=_("Reload"))

    def action_restart(self):
        require_admin(self.env, _("restart Asterisk"))
        return self._ask(
            "actions",
            "action",
            {"Action": "Command", "Command": "core restart gracefully"},
            title=_("Restart"),
        )

    def action_upload_conf(self):
        require_admin(self.env, _("upload .conf files"))
        self.ensure_one()
        confs = self.env["asterisk_plus.conf"].search([("server_id", "=", self.id)])
        files = [{"name": c.name, "content": c.content or ""} for c in confs]
        fields_ = bus.fields_for(
            self,
            "upload",
            payload={"files": files, "reload": True},
            reply_to="to_odoo",
            uid=self.env.uid,
            user=self.env.user.login,
        )
        bus.publish_after_commit(self.env, self, "commands:conf_sync", fields_)
        confs._sent(fields_["@id"])  # synced once conf_sync answers (conf._on_upload_results)
        return self._notify(_("Upload .conf files"), _("%s file(s) sent to the agent", len(files)), "info")

    def action_download_conf(self):
        require_admin(self.env, _("download .conf files"))
        self.ensure_one()
        fields_ = bus.fields_for(
            self, "download", reply_to="to_odoo", uid=self.env.uid, user=self.env.user.login
        )
        # The agent's files are taken as the answer to this request only (and for a while).
        self.sudo().write(
            {
                "conf_request_id": fields_["@id"],
                "conf_request_until": fields.Datetime.now() + timedelta(seconds=CONF_REQUEST_TTL),
            }
        )
        bus.publish_after_commit(self.env, self, "commands:conf_sync", fields_)
        return self._notify(_("Download .conf files"), _("Asked the agent for Asterisk's files"), "info")

    def _pending_conf_request(self):
        """The id of the Download whose answer Odoo waits for, or ""."""
        self.ensure_one()
        server = self.sudo()
        if (
            server.conf_request_id
            and server.conf_request_until
            and server.conf_request_until > fields.Datetime.now()
        ):
            return server.conf_request_id
        return ""

    def action_console_history(self):
        require_admin(self.env, _("read the console history"))
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("asterisk_plus.console_command_action")
        action["domain"] = [("server_id", "=", self.id)]
        return action

    def action_console(self):
        require_admin(self.env, _("open the console"))
        self.ensure_one()
        token = secrets.token_urlsafe(24)
        data = {
            "uid": self.env.uid,
            "login": self.env.user.login,
            "server": self.name,
            "exp": time.time() + 60,
        }
        bus.client(self).set(bus.key(self, f"console:token:{token}"), json.dumps(data), ex=60)
        return {
            "type": "ir.actions.act_url",
            "target": "new",
            "url": f"{self.console_url.rstrip('/')}/?token={token}",
        }

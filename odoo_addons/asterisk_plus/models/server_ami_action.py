"""The developer API's way to Asterisk: `server.ami_action(action, callback=(model, method), pass_back=...)`
sends an AMI action through the agent and hands its answer to `model.method(result, pass_back)` once it comes
back over the bus (docs/odoo-api.md, "The developer API")."""

import json
from datetime import timedelta

from odoo import _, fields, models
from odoo.exceptions import UserError

from .. import bus_client as bus
from ..rights import require_admin

STREAM = "actions"
REPLIES = "odoo_replies"  # read by the bridge; never a `replies:*` stream, which the gateway makes expire
MAX_TIMEOUT = 3600


class AsteriskServerAmiAction(models.Model):
    _inherit = "asterisk_plus.server"

    def _ami_check_action(self, action):
        if not isinstance(action, dict) or not isinstance(action.get("Action"), str) or not action["Action"]:
            raise UserError(_("An AMI action is a dict of headers with an 'Action', e.g. {'Action': 'Ping'}"))
        for name, value in action.items():
            if not isinstance(name, str) or not name or name.startswith("@") or "#" in name:
                raise UserError(_("Not an AMI header name: %r", name))
            values = value if isinstance(value, list | tuple) else [value]
            if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
                raise UserError(_("AMI header %s: a text, a number or a list of them", name))

    def ami_action(self, action, callback=None, pass_back=None, timeout=30):
        """Send `action` (AMI headers, e.g. `{"Action": "Ping"}`) to this server's Asterisk after the
        transaction commits. The answer comes to `callback` = (model, method) as
        `method(result, pass_back)`, called as the current user, once; after `timeout` seconds without one,
        with `result["timeout"]` true. Returns the request id.

        Over RPC for Asterisk admins only, and only with a public callback; from code, call it with sudo()."""
        self.ensure_one()
        if not self.env.su:
            require_admin(self.env, _("send AMI actions"))
        self._ami_check_action(action)
        if not isinstance(callback, list | tuple) or len(callback) != 2:
            raise UserError(_("callback is (model, method)"))
        model, method = (str(part) for part in callback)
        if model not in self.env or not callable(getattr(self.env[model], method, None)):
            raise UserError(_("%s has no method %s", model, method))
        if method.startswith("_") and not self.env.su:
            raise UserError(_("Over RPC the callback must be a public method"))
        if not isinstance(timeout, int | float) or not 0 < timeout <= MAX_TIMEOUT:
            raise UserError(_("timeout: 1 to %s seconds", MAX_TIMEOUT))
        request_id = bus.new_id()
        deadline = fields.Datetime.now() + timedelta(seconds=timeout)
        headers = {name: list(v) if isinstance(v, tuple) else v for name, v in action.items()}
        self.env["asterisk_plus.ami_request"].sudo().create(
            {
                "server_id": self.id,
                "request_id": request_id,
                "action": action["Action"],
                "headers": _json(headers),
                "user_id": self.env.uid,
                "callback_model": model,
                "callback_method": method,
                "pass_back": _json(pass_back) if pass_back is not None else False,
                "deadline": deadline,
            }
        )
        message = bus.fields_for(
            self,
            "action",
            headers,
            id=request_id,
            reply_to=REPLIES,
            deadline=deadline.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            uid=self.env.uid,
            user=self.env.user.login,
        )
        bus.publish_after_commit(self.env, self, STREAM, message)
        return request_id


def _json(value):
    try:
        return json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise UserError(_("pass_back and the action must be JSON values: %s", exc)) from exc

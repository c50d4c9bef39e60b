"""AMI actions Odoo code sent with a callback (server_ami_action.py), waiting for their answer: the bridge
delivers the gateway's replies from `odoo_replies` here, and each request's callback is called once, as the
user who asked, with the result; past its deadline, once with a timeout result (docs/odoo-api.md)."""

import json
import logging
from datetime import timedelta

import psycopg2
from odoo import api, fields, models

from .. import bus_client as bus
from .. import developer_items as di

_logger = logging.getLogger(__name__)

STREAM = "odoo_replies"
# A request is timed out this long after its deadline: the gateway's answer may still be on its way.
GRACE_S = 60


class AmiRequest(models.Model):
    _name = "asterisk_plus.ami_request"
    _description = "AMI action sent from Odoo code, with its callback"
    _order = "id desc"

    server_id = fields.Many2one("asterisk_plus.server", required=True, ondelete="cascade", index=True)
    request_id = fields.Char(required=True, index=True, help="The action's @id on the bus")
    action = fields.Char(help="The AMI action's name")
    headers = fields.Text(help="The action's headers (JSON)")
    user_id = fields.Many2one("res.users", string="Asked by", ondelete="set null")
    callback_model = fields.Char(required=True)
    callback_method = fields.Char(required=True)
    pass_back = fields.Text(help="JSON given back to the callback")
    deadline = fields.Datetime(required=True, index=True)
    state = fields.Selection(
        [("waiting", "Waiting"), ("done", "Answered"), ("timeout", "Timed out")],
        default="waiting",
        required=True,
        index=True,
    )
    result = fields.Text(help="What the callback got (JSON)")
    callback_error = fields.Text(help="The callback's exception, if it raised one")

    _sql_constraints = [("request_unique", "unique(server_id, request_id)", "One request per id and server.")]

    @api.model
    def on_ami_replies(self, server_name, items):
        """The bridge's delivery of `odoo_replies` (system account only; each item exactly a bus entry)."""
        server = self.env["asterisk_plus.server"]._for_bridge(server_name)
        entries = bus.entries(server, STREAM, items)
        wanted = [str(item.get("@id") or "") for item in items]
        requests = self.sudo().search([("server_id", "=", server.id), ("request_id", "in", wanted)])
        by_id = {r.request_id: r for r in requests}
        results = []
        for item, fields_, request_id in zip(items, entries, wanted, strict=True):
            if not di.exact(item, fields_) or item.get("@type") != "reply":
                results.append(_refused(server, item, f"no such reply on {STREAM}"))
                continue
            request = by_id.get(request_id)
            if not request:
                results.append(_refused(server, item, f"no AMI request {request_id} from Odoo"))
                continue
            if not request._claim("done"):
                results.append({"status": "duplicate"})  # answered or timed out already: called once
                continue
            request._call_back(di.reply_result(item, request_id))
            results.append({"status": "ok"})
        return results

    def _claim(self, state):
        """Move a waiting request to `state`; False if it was not waiting. A concurrent claim of the same row
        waits for the other transaction, then fails to serialize and Odoo runs the request again."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE asterisk_plus_ami_request SET state = %s, write_date = now() AT TIME ZONE 'UTC' "
            "WHERE id = %s AND state = 'waiting' RETURNING id",
            [state, self.id],
        )
        claimed = bool(self.env.cr.fetchone())
        self.invalidate_recordset(["state"])
        return claimed

    def _call_back(self, result):
        """The callback, once, as the user who asked, in a savepoint: what it raises is kept on the request
        and logged, and undoes only what the callback did."""
        self.ensure_one()
        request = self.sudo()
        pass_back = json.loads(request.pass_back) if request.pass_back else None
        error = ""
        user = request.user_id.exists()
        try:
            if not user:  # never as anyone else
                raise LookupError("the user who asked is gone: the callback is not called")
            with self.env.cr.savepoint():
                target = self.env[request.callback_model].with_user(user)
                getattr(target, request.callback_method)(result, pass_back)
        except psycopg2.OperationalError:
            raise  # a serialization failure: Odoo runs the whole request again
        except Exception as exc:  # noqa: BLE001 - any error of the callback is the callback's, kept on the request
            error = f"{type(exc).__name__}: {exc}"
            _logger.exception(
                "AMI request %s: callback %s.%s failed",
                request.request_id,
                request.callback_model,
                request.callback_method,
            )
        request.write({"result": json.dumps(result, default=str), "callback_error": error or False})

    @api.model
    def log_result(self, result, pass_back):
        """A callback that only writes the result to Odoo's log: for trying ami_action from a shell."""
        _logger.info("AMI result %s (pass_back %s)", json.dumps(result, default=str), pass_back)

    @api.model
    def _cron_timeout(self):
        """Requests past their deadline (and a grace for the answer on its way): their callback hears so."""
        late = fields.Datetime.now() - timedelta(seconds=GRACE_S)
        for request in self.sudo().search([("state", "=", "waiting"), ("deadline", "<", late)]):
            if request._claim("timeout"):
                waited = (request.deadline - request.create_date).total_seconds()
                request._call_back(di.timeout_result(request.request_id, max(waited, 0)))


def _refused(server, item, text):
    _logger.warning("AMI reply refused: %s (%s %s)", text, server.name, item.get("@entry") or "")
    return {"status": "error", "error": text}

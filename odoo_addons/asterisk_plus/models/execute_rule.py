"""The dialplan's way into Odoo: `UserEvent(OdooExecute, Model: m, Method: f, Args: <JSON>)` reaches
`m.f(server, args, item)` only when `f` is marked @dialplan in the code and an Asterisk admin allowed the pair
with an active rule here; anything else is refused and logged (docs/odoo-api.md, "The developer API")."""

import logging

import psycopg2
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import bus_client as bus
from .. import developer_items as di
from ..developer import is_dialplan

_logger = logging.getLogger(__name__)

STREAM = "events"


class ExecuteRule(models.Model):
    _name = "asterisk_plus.execute_rule"
    _description = "A model method the dialplan may call (UserEvent OdooExecute)"
    _order = "model, method"

    model = fields.Char(required=True, help="e.g. asterisk_plus.callback_request")
    method = fields.Char(required=True, help="A method of the model marked @dialplan in its code")
    active = fields.Boolean(default=True)
    note = fields.Text(help="What it is for, for the next admin")

    _sql_constraints = [("pair_unique", "unique(model, method)", "One rule per model and method.")]

    @api.depends("model", "method")
    def _compute_display_name(self):
        for rec in self:
            rec.display_name = f"{rec.model}.{rec.method}"

    @api.constrains("model", "method")
    def _check_dialplan(self):
        for rec in self:
            if not rec._callable():
                raise ValidationError(
                    _(
                        "%s.%s is not a method marked @dialplan: the dialplan cannot call it",
                        rec.model,
                        rec.method,
                    )
                )

    def _callable(self):
        self.ensure_one()
        model, method = (self.model or "").strip(), (self.method or "").strip()
        if model not in self.env or method.startswith("_"):
            return False
        return is_dialplan(getattr(self.env[model], method, None))

    @api.model
    def on_execute_events(self, server_name, items):
        """The bridge's delivery of the events map's OdooExecute UserEvents (system account only; each item
        exactly an entry of `events`). One result per item; a redelivered item is not run again."""
        server = self.env["asterisk_plus.server"]._for_bridge(server_name)
        entries = bus.entries(server, STREAM, items)
        rules = self.sudo().search([])
        allowed = {(r.model.strip(), r.method.strip()) for r in rules if r._callable()}
        results = []
        for item, fields_ in zip(items, entries, strict=True):
            if not di.exact(item, fields_):
                results.append(_refused(server, item, "no such UserEvent on the bus"))
                continue
            try:
                model, method, args = di.execute_call(item)
            except di.NotACall as exc:
                results.append(_refused(server, item, str(exc)))
                continue
            if (model, method) not in allowed:
                text = f"{model}.{method} is not allowed from the dialplan (no active rule, or not @dialplan)"
                results.append(_refused(server, item, text))
                continue
            results.append(self._execute(server, model, method, args, item))
        return results

    def _execute(self, server, model, method, args, item):
        """The call, in a savepoint with its dedupe mark: a failure undoes both, and is the item's error."""
        key = f"execute:{server.name}:{item.get('@id')}" if item.get("@id") else ""
        try:
            with self.env.cr.savepoint():
                if key and not self._mark_done(key):
                    return {"status": "duplicate"}
                getattr(self.env[model], method)(server, args, item)
        except psycopg2.OperationalError:
            raise  # a serialization failure: Odoo runs the whole request again
        except Exception as exc:  # noqa: BLE001 - the method's error is this item's, the batch goes on
            _logger.exception("OdooExecute %s.%s failed (%s %s)", model, method, server.name, item.get("@id"))
            return {"status": "error", "error": f"{model}.{method}: {type(exc).__name__}: {exc}"}
        return {"status": "ok"}

    def _mark_done(self, key):
        self.env.cr.execute(
            """
            INSERT INTO asterisk_plus_processed_event (name, create_uid, create_date, write_uid, write_date)
            VALUES (%s, %s, now() AT TIME ZONE 'UTC', %s, now() AT TIME ZONE 'UTC')
            ON CONFLICT (name) DO NOTHING RETURNING id
            """,
            [key, self.env.uid, self.env.uid],
        )
        return bool(self.env.cr.fetchone())


def _refused(server, item, text):
    _logger.warning("OdooExecute refused: %s (%s %s)", text, server.name, item.get("@entry") or "")
    return {"status": "error", "error": text}
